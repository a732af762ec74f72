//! End-to-end tests of what discovery finds under an input root: paths that cannot be read,
//! special files, names that are not UTF-8 or hold control characters, and an output folder
//! inside the input. The trees are built by each test in a temporary folder (named pipes,
//! dangling links and invalid names cannot be committed).
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Output {
    code: i32,
    stderr: String,
}

/// Runs the real binary, failing the test if it has not finished within two minutes (a run
/// that opens a named pipe waits for a writer forever).
fn aliaudit(args: &[&str]) -> Output {
    let logs = tempfile::tempdir().unwrap();
    let err = logs.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("aliaudit {args:?} did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&std::fs::read(&err).unwrap()).into_owned(),
    }
}

/// `report ROOT -o OUT --format FORMATS`.
fn report(root: &Path, out: &Path, formats: &str) -> Output {
    aliaudit(&[
        "report",
        root.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--format",
        formats,
    ])
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A complete account (the prod sample) at `dir`, without its account.toml, so that its id
/// is its folder's path.
fn account_at(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/acme-retail/prod");
    for entry in std::fs::read_dir(sample).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "account.toml" {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
}

/// The manifest entry whose path is `path` exactly.
fn entry<'a>(manifest: &'a Value, path: &str) -> &'a Value {
    manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no manifest entry for {path:?} in {manifest:#}"))
}

/// How outputs name a root: by its folder's name (never the path of this machine).
fn label(root: &Path) -> String {
    root.file_name().unwrap().to_str().unwrap().to_string()
}

/// Every path under `root` that is not a folder (files, links, pipes, sockets), hidden ones
/// aside, is in the manifest, named below the root's label.
fn assert_every_path_listed(root: &Path, manifest: &Value) {
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let walker = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().as_bytes().starts_with(b"."));
    for e in walker {
        let e = e.unwrap();
        if e.file_type().is_dir() {
            continue;
        }
        let rel = e.path().strip_prefix(root).unwrap();
        let shown = format!("{}/{}", label(root), rel.to_str().unwrap());
        assert!(
            listed.contains(&shown.as_str()),
            "{shown} is not in the manifest: {listed:#?}"
        );
    }
}

// ---------------------------------------------------------------- item 10: unreadable paths

#[test]
fn paths_that_cannot_be_read_are_rejected_with_the_os_error_and_exit_2() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("in");
    account_at(&root.join("acme/prod"));
    let prod = root.join("acme/prod");
    std::os::unix::fs::symlink(tree.path().join("gone.json"), prod.join("dangling.json")).unwrap();
    std::os::unix::fs::symlink(tree.path().join("gone"), root.join("acme/staging")).unwrap();
    std::os::unix::fs::symlink("itself", root.join("itself")).unwrap();
    let out = tree.path().join("out");
    let run = report(&root, &out, "json");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let m = json(&out.join("manifest.json"));
    let r = label(&root);
    let r = r.as_str();
    let dangling = entry(&m, &format!("{r}/acme/prod/dangling.json"));
    assert_eq!(dangling["status"], "rejected");
    assert_eq!(
        dangling["reason"],
        "cannot read: a link to a path that does not exist: No such file or directory (os error 2)"
    );
    assert_eq!(dangling["account"], "acme/prod");
    let folder = entry(&m, &format!("{r}/acme/staging"));
    assert_eq!(folder["status"], "rejected");
    assert_eq!(
        folder["reason"],
        "cannot read: a link to a path that does not exist: No such file or directory (os error 2)"
    );
    let looped = entry(&m, &format!("{r}/itself"));
    assert_eq!(looped["status"], "rejected");
    assert!(
        looped["reason"]
            .as_str()
            .unwrap()
            .starts_with("cannot read: Too many levels of symbolic links (os error"),
        "{looped}"
    );
    for path in ["acme/prod/dangling.json", "acme/staging", "itself"] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.starts_with(&format!("error: {r}/{path}: cannot read: "))),
            "no error for {path}: {}",
            run.stderr
        );
    }
    // The readable account is still evaluated, and complete.
    let s = json(&out.join("summary.json"));
    assert_eq!(s["portfolio"]["accounts"], 1);
    assert_eq!(s["accounts"][0]["status"], "complete");
    assert_every_path_listed(&root, &m);
}

#[test]
fn a_folder_without_permission_is_rejected_unless_running_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("in");
    account_at(&root.join("acme/prod"));
    let locked = root.join("acme/locked");
    account_at(&locked);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let privileged = std::fs::read_dir(&locked).is_ok();
    let result = std::panic::catch_unwind(|| {
        if privileged {
            eprintln!(
                "SKIPPED: running as root, which reads a folder of mode 000; the dangling-link and link-loop tests cover unreadable paths"
            );
            return;
        }
        let out = tree.path().join("out");
        let run = report(&root, &out, "json");
        assert_eq!(run.code, 2, "{}", run.stderr);
        let m = json(&out.join("manifest.json"));
        let shown = format!("{}/acme/locked", label(&root));
        let e = entry(&m, &shown);
        assert_eq!(e["status"], "rejected");
        assert_eq!(e["reason"], "cannot read: Permission denied (os error 13)");
        assert!(
            run.stderr.contains(&format!(
                "error: {shown}: cannot read: Permission denied (os error 13)"
            )),
            "{}",
            run.stderr
        );
    });
    // Give the folder back its permissions so the temporary tree can be removed.
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn special_files_are_ignored_with_their_type_and_never_opened() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("in");
    let prod = root.join("acme/prod");
    account_at(&prod);
    let made = Command::new("mkfifo")
        .arg(prod.join("pipe.json"))
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    // A listening socket and a link to a character device, beside the evidence.
    let _socket = std::os::unix::net::UnixListener::bind(prod.join("agent.sock")).unwrap();
    std::os::unix::fs::symlink("/dev/null", prod.join("null.json")).unwrap();
    let out = tree.path().join("out");
    let run = report(&root, &out, "json");
    // Nothing was wrong with the account: ignored files are not problems.
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = json(&out.join("manifest.json"));
    let r = label(&root);
    let r = r.as_str();
    for (name, reason) in [
        ("pipe.json", "a named pipe (FIFO), not a file"),
        ("agent.sock", "a socket, not a file"),
        ("null.json", "a character device, not a file"),
    ] {
        let e = entry(&m, &format!("{r}/acme/prod/{name}"));
        assert_eq!(e["status"], "ignored", "{e}");
        assert_eq!(e["reason"], reason, "{e}");
        assert_eq!(e["account"], "acme/prod", "{e}");
        assert_eq!(e["size"], 0, "{e}");
    }
    assert_every_path_listed(&root, &m);
}

// ---------------------------------------------------------------- item 11: names not UTF-8

#[test]
fn folders_whose_names_differ_only_in_invalid_bytes_stay_distinct_accounts() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("in");
    let name = |bytes: &[u8]| root.join(std::ffi::OsStr::from_bytes(bytes));
    // Two names that are not UTF-8, and a third spelling the first one's escape literally.
    let (ff, fe, literal) = (name(b"bad\xff"), name(b"bad\xfe"), name(b"bad\\xff"));
    for dir in [&ff, &fe, &literal] {
        account_at(dir);
    }
    // Different evidence, so a mix-up of the two folders cannot go unnoticed.
    let policy = fe.join("GetPasswordPolicy.json");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replacen("true", "false", 1)).unwrap();
    std::fs::write(ff.join(std::ffi::OsStr::from_bytes(b"notes\xe4.txt")), "hi").unwrap();
    // A hidden folder is skipped whatever its name is made of.
    account_at(&name(b".hidden\xff"));
    let out = tree.path().join("out");
    let run = report(&root, &out, "json,html");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains('\u{fffd}'), "{}", run.stderr);
    let s = json(&out.join("summary.json"));
    let mut ids: Vec<&str> = s["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["bad\\\\xff", "bad\\xfe", "bad\\xff"]);
    let r = label(&root);
    let r = r.as_str();
    let m = json(&out.join("manifest.json"));
    let mut policies: Vec<(&str, &str)> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with("/GetPasswordPolicy.json")
        })
        .map(|f| (f["path"].as_str().unwrap(), f["sha256"].as_str().unwrap()))
        .collect();
    policies.sort();
    assert_eq!(policies.len(), 3, "{policies:?}");
    assert_eq!(
        policies[1].0,
        format!("{r}/bad\\xfe/GetPasswordPolicy.json")
    );
    assert_eq!(
        policies[2].0,
        format!("{r}/bad\\xff/GetPasswordPolicy.json")
    );
    assert_ne!(policies[1].1, policies[2].1);
    assert_eq!(
        entry(&m, &format!("{r}/bad\\xff/notes\\xe4.txt"))["status"],
        "ignored"
    );
    assert!(
        !m["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"].as_str().unwrap().contains("/.hidden")),
        "a hidden folder was read"
    );
    // One page per account, each under its own name.
    let mut pages: Vec<String> = std::fs::read_dir(out.join("accounts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    assert_eq!(pages, ["bad-xfe.html", "bad-xff-2.html", "bad-xff.html"]);
}

// ---------------------------------------------------------------- item 13: control characters

#[test]
fn file_names_cannot_forge_terminal_lines() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("in");
    let prod = root.join("acme/prod");
    account_at(&prod);
    // Broken JSON, so that each name is in an error line.
    for name in ["x\nerror: forged.json", "y\r\x1b[2Kerror: wiped.json"] {
        std::fs::write(prod.join(name), "{\"TotalCount\": 1").unwrap();
    }
    let out = tree.path().join("out");
    let run = report(&root, &out, "json");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.starts_with("error: forged") || l.starts_with("error: wiped")),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(['\r', '\x1b']),
        "raw control characters: {:?}",
        run.stderr
    );
    let r = label(&root);
    let r = r.as_str();
    for shown in ["x\\nerror: forged.json", "y\\r\\x1b[2Kerror: wiped.json"] {
        assert!(
            run.stderr.contains(&format!(
                "error: {r}/acme/prod/{shown}: invalid JSON at line 1"
            )),
            "{shown} not escaped: {}",
            run.stderr
        );
    }
    // The manifest keeps the name as it is (JSON escapes it).
    let m = json(&out.join("manifest.json"));
    assert_eq!(
        entry(&m, &format!("{r}/acme/prod/x\nerror: forged.json"))["status"],
        "rejected"
    );
}

// ---------------------------------------------------------------- item 12: output inside input

#[test]
fn an_output_folder_inside_the_input_root_is_not_read_back() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("in");
    account_at(&root.join("acme/prod"));
    let out: PathBuf = root.join("reports/latest");
    let first = report(&root, &out, "json,html");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let said = format!(
        "warning: {}/reports/latest: the output folder is inside the input root {}; it is not read as evidence",
        label(&root),
        label(&root)
    );
    assert!(first.stderr.contains(&said), "{}", first.stderr);
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();
    // The second run finds the first one's HTML and JSON in the input root: still not read.
    let second = report(&root, &out, "json,html");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.stderr.matches(&said).count(), 1, "{}", second.stderr);
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), manifest);
    let s = json(&out.join("summary.json"));
    assert_eq!(s["portfolio"]["accounts"], 1);
}

// ------------------------------------------------- evidence paths relative to the input root

/// Every output file's text, PDFs as poppler reads them (their streams are compressed).
fn output_texts(out: &Path) -> Vec<(PathBuf, String)> {
    walkdir::WalkDir::new(out)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let path = e.path().to_path_buf();
            let text = if path.extension().is_some_and(|x| x == "pdf") {
                let run = Command::new("pdftotext")
                    .args([path.as_os_str(), "-".as_ref()])
                    .output()
                    .expect("pdftotext (poppler-utils) is needed");
                String::from_utf8_lossy(&run.stdout).into_owned()
            } else {
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()
            };
            (path, text)
        })
        .collect()
}

#[test]
fn no_output_holds_a_path_of_this_machine_and_the_tree_reads_the_same_anywhere() {
    let tree = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut outs = Vec::new();
    // The same evidence and option files in two places of this machine, given as absolute
    // paths: the outputs name neither place, so they are the same bytes.
    for place in ["first", "second/deeper"] {
        let base = tree.path().join(place);
        let root = base.join("in");
        account_at(&root.join("acme/prod"));
        std::fs::create_dir_all(base.join("config")).unwrap();
        let exceptions = base.join("config/exceptions.toml");
        std::fs::copy(fixtures.join("quarters/exceptions.toml"), &exceptions).unwrap();
        let branding = base.join("config/branding.toml");
        std::fs::write(
            &branding,
            "company = \"Audit Co\"\n[customers.\"Nobody\"]\nfooter = \"x\"\n",
        )
        .unwrap();
        let out = base.join("out");
        let run = aliaudit(&[
            "report",
            root.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--as-of",
            "2026-10-01",
            "--exceptions",
            exceptions.to_str().unwrap(),
            "--branding",
            branding.to_str().unwrap(),
        ]);
        assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
        let machine = tree.path().to_str().unwrap();
        let texts = output_texts(&out);
        let names: Vec<_> = texts
            .iter()
            .map(|t| t.0.strip_prefix(&out).unwrap())
            .collect();
        assert_eq!(names.len(), 7, "{names:?}");
        for (path, text) in &texts {
            assert!(
                !text.contains(machine),
                "{} names {machine}",
                path.display()
            );
        }
        let m = json(&out.join("manifest.json"));
        assert_eq!(m["options"]["inputs"], serde_json::json!(["in"]));
        assert_eq!(m["options"]["exceptions_file"][0], "exceptions.toml");
        entry(&m, "in/acme/prod/GetPasswordPolicy.json");
        outs.push(out);
    }
    let bytes = |out: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = walkdir::WalkDir::new(out)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(out).unwrap().to_path_buf();
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let (first, second) = (bytes(&outs[0]), bytes(&outs[1]));
    assert_eq!(
        first.iter().map(|f| &f.0).collect::<Vec<_>>(),
        second.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in first.iter().zip(&second) {
        assert!(a == b, "{} differs between the two places", name.display());
    }
}
