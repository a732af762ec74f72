//! Per-stage timing for the benchmarks: CPU time summed over threads, kept in atomics so
//! measuring never changes what is computed. Printed only when `ALIAUDIT_TIMINGS` is set.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A pipeline stage.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// Discover, read and parse, build the models.
    Ingest,
    /// Evaluate the controls.
    Evaluate,
    /// Draw charts (SVG).
    Charts,
    /// Shape views and render templates (charts excluded).
    Html,
    /// Lay out and write PDF bytes (charts excluded).
    Pdf,
    /// summary.json, findings.csv, manifest.json.
    Data,
    /// Create, sync and rename output files.
    Write,
}

const NAMES: [&str; 7] = [
    "ingest", "evaluate", "charts", "html", "pdf", "json+csv", "write",
];
static NANOS: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

/// Adds the time since `start` to `stage`.
pub fn add(stage: Stage, start: Instant) {
    let nanos = start.elapsed().as_nanos().min(u64::MAX as u128) as u64;
    NANOS[stage as usize].fetch_add(nanos, Ordering::Relaxed);
}

/// Subtracts time already counted elsewhere (charts drawn inside a page render).
pub fn subtract(stage: Stage, nanos: u64) {
    let _ = NANOS[stage as usize].fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_sub(nanos))
    });
}

/// Nanoseconds counted so far for `stage`.
pub fn nanos(stage: Stage) -> u64 {
    NANOS[stage as usize].load(Ordering::Relaxed)
}

/// Every stage with its CPU seconds.
pub fn report() -> Vec<(&'static str, f64)> {
    NAMES
        .iter()
        .zip(NANOS.iter())
        .map(|(n, v)| (*n, v.load(Ordering::Relaxed) as f64 / 1e9))
        .collect()
}
