//! The embedded faces (Noto Sans CJK SC, subset), one copy for the charts and the PDF layout.

/// The embedded regular face.
pub(crate) static FONT_REGULAR: &[u8] =
    include_bytes!("../../../fonts/NotoSansCJKsc-Regular-subset.otf");
/// The embedded bold face.
pub(crate) static FONT_BOLD: &[u8] = include_bytes!("../../../fonts/NotoSansCJKsc-Bold-subset.otf");
