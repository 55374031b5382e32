//! Files written whole or not at all.
//!
//! [`write_atomic`] writes to a temporary file in the target's folder and renames it over the
//! target only once everything is written and synced, so that a failed write neither destroys
//! the previous file nor leaves a partial one: the temporary file is removed on failure (and on
//! a panic). [`TempPath`] is the same guard for writers that want a path of their own (such as
//! `snapshot::save_path`).
//!
//! The temporary file is named `.NAME.PID.N.tmp` beside the target, so the rename stays within
//! one file system and is atomic where the platform's rename is (POSIX).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary path beside a target file: [`TempPath::commit`] renames it over the target;
/// dropping it uncommitted removes it.
///
/// # Examples
///
/// ```
/// use sellerlink::fs::TempPath;
/// let dir = std::env::temp_dir().join(format!("sellerlink-doc-temppath-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let target = dir.join("out.txt");
/// let tmp = TempPath::beside(&target)?;
/// std::fs::write(tmp.path(), "new")?;
/// tmp.commit()?;
/// assert_eq!(std::fs::read_to_string(&target)?, "new");
///
/// let tmp = TempPath::beside(&target)?;
/// std::fs::write(tmp.path(), "half")?;
/// drop(tmp); // a failure: the target keeps its content, the temporary file is gone
/// assert_eq!(std::fs::read_to_string(&target)?, "new");
/// assert_eq!(std::fs::read_dir(&dir)?.count(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TempPath {
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl TempPath {
    /// A fresh temporary path in `target`'s folder (nothing is created yet).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] when `target` has no file name.
    ///
    /// # Examples
    ///
    /// See [`TempPath`].
    pub fn beside(target: impl AsRef<Path>) -> io::Result<TempPath> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let target = target.as_ref().to_path_buf();
        let Some(name) = target.file_name() else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a file path"));
        };
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp_name = format!(".{}.{}.{n}.tmp", name.to_string_lossy(), std::process::id());
        let tmp = target.with_file_name(tmp_name);
        Ok(TempPath { tmp, target, done: false })
    }

    /// The temporary path to write.
    ///
    /// # Examples
    ///
    /// See [`TempPath`].
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the temporary file over the target.
    ///
    /// # Errors
    ///
    /// The rename's I/O error (the temporary file is then removed).
    ///
    /// # Examples
    ///
    /// See [`TempPath`].
    pub fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.tmp, &self.target)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `path` whole or not at all: `write` fills a buffered temporary file beside it, which
/// is flushed, synced and renamed over `path` once `write` succeeds; on any failure (or a panic
/// in `write`) the temporary file is removed and `path` is left as it was.
///
/// # Errors
///
/// The error of `write`, or the I/O error of creating, flushing, syncing or renaming (converted
/// with `From<io::Error>`).
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// let path = std::env::temp_dir().join(format!("sellerlink-doc-atomic-{}.csv", std::process::id()));
/// sellerlink::fs::write_atomic(&path, |w| writeln!(w, "account,cluster"))?;
/// // A failing writer leaves the previous file whole.
/// let failed: std::io::Result<()> = sellerlink::fs::write_atomic(&path, |w| {
///     writeln!(w, "partial")?;
///     Err(std::io::Error::other("disk full"))
/// });
/// assert!(failed.is_err());
/// assert_eq!(std::fs::read_to_string(&path)?, "account,cluster\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_atomic<T, E: From<io::Error>>(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
) -> Result<T, E> {
    let tmp = TempPath::beside(path.as_ref())?;
    let file = File::options().write(true).create_new(true).open(tmp.path())?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let value = write(&mut out)?;
    out.flush()?;
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    drop(file);
    tmp.commit()?;
    Ok(value)
}
