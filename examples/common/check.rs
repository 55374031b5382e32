//! Checks and text plumbing shared by the examples, free of terminal output so that the
//! integration tests include this file (`tests/hostile.rs`) and test it as the examples use it.

use std::cell::RefCell;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

/// One place format for every message: `FILE:LINE: field F: reason` (`FILE:LINE: reason`
/// without a field), as the library's ingest errors.
pub fn place(file: &Path, line: u64, field: Option<&str>, reason: impl std::fmt::Display) -> String {
    match field {
        Some(f) => format!("{}:{line}: field {f}: {reason}", file.display()),
        None => format!("{}:{line}: {reason}", file.display()),
    }
}

/// A snapshot error naming the file: an I/O error names it already; the others (truncated,
/// corrupted, wrong version) get it in front.
pub fn snapshot_error(path: &Path, e: &sellerlink::snapshot::SnapshotError) -> String {
    match e {
        sellerlink::snapshot::SnapshotError::Io { .. } => e.to_string(),
        _ => format!("{}: {e}", path.display()),
    }
}

/// `--resolution`: a finite number, at least 0.
pub fn resolution(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        Ok(_) => Err("must be a finite number of at least 0".into()),
        Err(_) => Err("not a number".into()),
    }
}

/// A share (`--ring-share`): a number from 0 to 1.
pub fn share(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        Ok(_) => Err("must be a number from 0 to 1".into()),
        Err(_) => Err("not a number".into()),
    }
}

/// A factor (`--hostility`): a finite number, at least 0.
pub fn factor(s: &str) -> Result<f64, String> {
    resolution(s)
}

/// A count of at least 1 (`--top`).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1".into()),
        Err(_) => Err("not a whole number".into()),
    }
}

/// The largest sum of edge weights the `communities` example accepts: the quality functions
/// multiply node strengths (each at most twice the sum), which must stay finite.
pub use sellerlink::leiden::MAX_TOTAL_WEIGHT;

/// Adds an edge weight to the running total, or says why the total is out of range.
pub fn add_weight(total: &mut f64, weight: f64) -> Result<(), String> {
    let sum = *total + weight;
    if sum > MAX_TOTAL_WEIGHT {
        return Err(format!(
            "the weights sum past {MAX_TOTAL_WEIGHT:e}, where the quality sums overflow; scale them down"
        ));
    }
    *total = sum;
    Ok(())
}

/// The lines of a text file with their numbers: a leading byte-order mark is dropped, and a
/// line ends at LF, CRLF or CR alone.
pub fn numbered_lines(text: &str) -> Vec<(u64, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let (mut start, mut line) = (0usize, 1u64);
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            out.push((line, &text[start..i]));
            line += 1;
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < b.len() {
        out.push((line, &text[start..]));
    }
    out
}

/// What [`Normalized`] saw, for line numbers.
#[derive(Default)]
struct Seen {
    /// Bytes handed on.
    given: u64,
    /// The last byte read was a CR (its LF, if next, is dropped).
    after_cr: bool,
    /// The leading byte-order mark was looked for.
    bom_checked: bool,
    /// The end of the input was reached.
    eof: bool,
    /// The last byte handed on.
    last: Option<u8>,
}

/// A reader for the csv crate that drops a leading byte-order mark and hands every line end
/// (LF, CRLF, CR alone) on as LF, so that the csv parser counts lines right; a line break inside
/// a quoted field is read as LF too. [`Normalized::lines`] gives the handle that places records.
pub struct Normalized<R> {
    inner: R,
    seen: Rc<RefCell<Seen>>,
    raw: Vec<u8>,
}

impl<R: Read> Normalized<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Normalized { inner, seen: Rc::default(), raw: Vec::new() }
    }

    /// The handle that gives each record's line.
    pub fn lines(&self) -> RecordLines {
        RecordLines(self.seen.clone())
    }
}

impl<R: Read> Read for Normalized<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if buf.is_empty() {
                return Ok(0);
            }
            self.raw.resize(buf.len(), 0);
            let n = self.inner.read(&mut self.raw)?;
            let mut seen = self.seen.borrow_mut();
            if n == 0 {
                seen.eof = true;
                return Ok(0);
            }
            let mut raw = &self.raw[..n];
            if !seen.bom_checked {
                // (A mark split across reads is not looked for: readers hand whole buffers.)
                seen.bom_checked = true;
                raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
            }
            let mut out = 0;
            for &b in raw {
                let after_cr = std::mem::replace(&mut seen.after_cr, b == b'\r');
                if b == b'\n' && after_cr {
                    continue;
                }
                buf[out] = if b == b'\r' { b'\n' } else { b };
                out += 1;
            }
            if out > 0 {
                seen.given += out as u64;
                seen.last = Some(buf[out - 1]);
                return Ok(out);
            }
        }
    }
}

/// Places csv records on their lines (see [`Normalized`]).
#[derive(Clone)]
pub struct RecordLines(Rc<RefCell<Seen>>);

impl RecordLines {
    /// The line where `record` starts, given the reader's position right after reading it. The
    /// csv crate's own record position is where the previous record ended, before any blank
    /// lines it skipped; counting back from the record's end is right.
    pub fn line_of(&self, record: &csv::ByteRecord, after: &csv::Position) -> u64 {
        let seen = self.0.borrow();
        let inside = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        let unterminated = seen.eof && after.byte() == seen.given && seen.last != Some(b'\n');
        after.line().saturating_sub(inside + u64::from(!unterminated)).max(1)
    }
}
