//! Per-stage timing for the benchmarks: CPU time summed over threads, kept in atomics so
//! measuring never changes what is computed, and the time of each PDF document (kept only
//! when `ALIAUDIT_TIMINGS` is set, the only time any of it is printed).

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

/// Whether `ALIAUDIT_TIMINGS` is set (read once).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("ALIAUDIT_TIMINGS").is_some())
}

static DOCUMENTS: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());

/// Records how long one PDF document took to lay out and write (only when [`enabled`]).
pub fn document(start: Instant) {
    if enabled() {
        let nanos = start.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        if let Ok(mut all) = DOCUMENTS.lock() {
            all.push(nanos);
        }
    }
}

/// The distribution of the PDF documents' times recorded so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    /// How many documents.
    pub count: usize,
    /// Median, in milliseconds.
    pub median_ms: f64,
    /// 95th percentile (nearest rank), in milliseconds.
    pub p95_ms: f64,
    /// Slowest, in milliseconds.
    pub max_ms: f64,
}

/// Median, 95th percentile (nearest rank) and maximum of `nanos`; `None` of nothing.
pub fn distribution(nanos: &[u64]) -> Option<Distribution> {
    if nanos.is_empty() {
        return None;
    }
    let mut sorted = nanos.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let ms = |v: u64| v as f64 / 1e6;
    let median = if n % 2 == 1 {
        ms(sorted[n / 2])
    } else {
        (ms(sorted[n / 2 - 1]) + ms(sorted[n / 2])) / 2.0
    };
    // Nearest rank: the smallest value with at least 95% of the values at or below it.
    let rank = (n * 95).div_ceil(100).max(1);
    Some(Distribution {
        count: n,
        median_ms: median,
        p95_ms: ms(sorted[rank - 1]),
        max_ms: ms(sorted[n - 1]),
    })
}

/// The distribution of the documents recorded by [`document`].
pub fn documents() -> Option<Distribution> {
    DOCUMENTS.lock().ok().and_then(|all| distribution(&all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distribution_gives_median_nearest_rank_p95_and_max() {
        assert_eq!(distribution(&[]), None);
        let d = distribution(&[3_000_000, 1_000_000, 2_000_000]).unwrap();
        assert_eq!(
            (d.count, d.median_ms, d.p95_ms, d.max_ms),
            (3, 2.0, 3.0, 3.0)
        );
        // 1..=100 ms: the 95th value is 95 ms; an even count's median is the mean of two.
        let hundred: Vec<u64> = (1..=100).map(|i| i * 1_000_000).collect();
        let d = distribution(&hundred).unwrap();
        assert_eq!((d.median_ms, d.p95_ms, d.max_ms), (50.5, 95.0, 100.0));
    }
}
