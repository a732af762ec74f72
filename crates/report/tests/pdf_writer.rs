//! The patched pdf-writer (vendor/README.md) through its public API: what krilla's
//! renumbering and cross-reference table write must stay what upstream wrote.
#![allow(clippy::unwrap_used)]

use pdf_writer::{Chunk, Name, Pdf, Ref, Settings, Str};

/// Settings as krilla writes: no pretty-printing.
fn compact() -> Settings {
    Settings { pretty: false }
}

/// The objects of `chunk` renumbered by `map` (an old number not in it stays), as text.
fn renumbered(chunk: &Chunk, map: &[(i32, i32)]) -> String {
    let mut out = Chunk::with_settings(compact());
    chunk.renumber_into(&mut out, |old| {
        map.iter()
            .find(|(from, _)| *from == old.get())
            .map_or(old, |(_, to)| Ref::new(*to))
    });
    String::from_utf8(out.as_bytes().to_vec()).unwrap()
}

#[test]
fn references_are_renumbered_and_everything_else_is_copied() {
    let mut chunk = Chunk::with_settings(compact());
    chunk
        .indirect(Ref::new(7))
        .dict()
        .pair(Name(b"Kids"), Ref::new(12))
        .pair(Name(b"Text"), Str(b"12 0 R (in a string) 7 0 R"))
        .pair(Name(b"Count"), 12);
    chunk
        .indirect(Ref::new(12))
        .array()
        .item(Ref::new(7))
        .item(Ref::new(1_000_000))
        .item(Ref::new(12));
    let text = renumbered(&chunk, &[(7, 1), (12, 2), (1_000_000, 3)]);
    assert_eq!(
        text,
        "1 0 obj\n<</Kids 2 0 R/Text(12 0 R (in a string) 7 0 R)/Count 12>>\nendobj\n\
         2 0 obj\n[1 0 R 3 0 R 2 0 R]\nendobj\n"
    );
}

#[test]
fn the_cross_reference_table_gives_each_object_its_offset() {
    // Offsets are ten digits and generations five, padded with zeros; object 0 and numbers
    // no object took are free.
    let mut pdf = Pdf::with_settings(compact());
    pdf.catalog(Ref::new(1)).pages(Ref::new(2));
    pdf.pages(Ref::new(2)).count(0);
    pdf.indirect(Ref::new(4)).primitive(42);
    let bytes = pdf.finish();
    let text = String::from_utf8_lossy(&bytes);
    let table = &text[text.find("xref\n").unwrap()..text.find("trailer").unwrap()];
    let lines: Vec<&str> = table.split("\r\n").collect();
    assert_eq!(lines[0], "xref\n0 5\n0000000003 65535 f");
    assert_eq!(lines[3], "0000000000 00000 f", "{table:?}");
    for (id, line) in [(1, lines[1]), (2, lines[2]), (4, lines[4])] {
        let (offset, rest) = line.split_once(' ').unwrap();
        assert_eq!((offset.len(), rest), (10, "00000 n"), "{table:?}");
        let at: usize = offset.parse().unwrap();
        // The header's bytes past 127 are not text: offsets count bytes.
        assert!(
            bytes[at..].starts_with(format!("{id} 0 obj").as_bytes()),
            "{table:?}"
        );
    }
}

/// What a content stream may hold before an operation: nothing, an operator, a string, a
/// name, or an operation that ends in a delimiter (krilla writes glyph strings this way).
const BEFORE: [fn(&mut pdf_writer::Content); 5] = [
    |_| {},
    |c| {
        c.begin_text();
    },
    |c| {
        c.show(Str(b"a)b"));
    },
    |c| {
        c.set_fill_color_space(Name(b"c0"));
    },
    |c| {
        c.op("(x)");
    },
];

#[test]
fn number_operations_are_written_as_any_operation_writes_them() {
    // Text matrices, transforms, path points and colours write their numbers straight into
    // the buffer: the bytes must be those of the general path, after any operation (an
    // operator, a string, a name, a delimiter, or nothing), for whole, fractional, tiny and
    // huge numbers, and for a colour of no component.
    use pdf_writer::Content;
    let numbers = [
        [1.0, 0.0, 0.0, -1.0, 52.0, 151.31499],
        [1.0, -0.0, 0.0, -1.0, 0.1, -3e-7],
        [0.5, -0.25, 1e-7, 3.4e38, -0.0, 1e12],
        [f32::MIN_POSITIVE, 2.5e-6, -7.0, 65536.0, 1e11, -123.456],
    ];
    type Write = fn(&mut Content, [f32; 6]);
    let operations: [(&str, usize, Write); 9] = [
        ("Tm", 6, |c, n| {
            c.set_text_matrix(n);
        }),
        ("cm", 6, |c, n| {
            c.transform(n);
        }),
        ("m", 2, |c, n| {
            c.move_to(n[0], n[1]);
        }),
        ("l", 2, |c, n| {
            c.line_to(n[0], n[1]);
        }),
        ("c", 6, |c, n| {
            c.cubic_to(n[0], n[1], n[2], n[3], n[4], n[5]);
        }),
        ("re", 4, |c, n| {
            c.rect(n[0], n[1], n[2], n[3]);
        }),
        ("scn", 3, |c, n| {
            c.set_fill_color(n[..3].iter().copied());
        }),
        ("SCN", 3, |c, n| {
            c.set_stroke_color(n[..3].iter().copied());
        }),
        ("scn", 0, |c, _| {
            c.set_fill_color([]);
        }),
    ];
    for values in numbers {
        for start in BEFORE {
            for (operator, count, write) in operations {
                let mut fast = Content::with_settings(compact());
                start(&mut fast);
                write(&mut fast, values);
                let mut general = Content::with_settings(compact());
                start(&mut general);
                general
                    .op(operator)
                    .operands(values[..count].iter().copied());
                let (fast, general) = (fast.finish(), general.finish());
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&general),
                    "{operator}"
                );
            }
        }
    }
}

#[test]
fn a_raw_operation_is_separated_as_any_operation() {
    // krilla's glyph strings go in through `op_raw`: the separator before them must be the
    // one `op` writes before an operation without operands.
    use pdf_writer::Content;
    for start in BEFORE {
        let mut raw = Content::with_settings(compact());
        start(&mut raw);
        raw.op_raw(|buf| buf.extend_from_slice(b"(a\\)b)Tj"));
        let mut general = Content::with_settings(compact());
        start(&mut general);
        general.op("(a\\)b)Tj");
        assert_eq!(raw.finish().as_slice(), general.finish().as_slice());
    }
}

#[test]
fn integers_are_written_as_their_decimal_digits() {
    // One-digit integers skip itoa: every integer, and every whole float, must still be
    // written as its decimal digits.
    use pdf_writer::Content;
    // (Not i32::MIN: pdf-writer records the largest integer by its `abs`, which overflows in
    // a debug build, as does a float that rounds to it.)
    for value in [
        -16_777_216,
        -10,
        -9,
        -1,
        0,
        1,
        5,
        9,
        10,
        11,
        99,
        255,
        i32::MAX,
    ] {
        let mut content = Content::with_settings(compact());
        content.op("n").operand(value);
        assert_eq!(
            content.finish().as_slice(),
            format!(" {value} n").as_bytes()
        );
        let mut content = Content::with_settings(compact());
        content.op("n").operand(value as f32);
        let whole = value as f32 as i32;
        assert_eq!(
            content.finish().as_slice(),
            format!(" {whole} n").as_bytes()
        );
    }
}
