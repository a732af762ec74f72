//! Render stage: turns page views into bytes. Renderers write to a `Write` and never open
//! files; the output module decides where the bytes go.

pub mod html;
pub mod layout;
pub mod pdf;
