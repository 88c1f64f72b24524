//! The files a run needs: the hook's script and the request body.
//!
//! Both live in one directory per daemon, created on first use under memory-backed `/dev/shm`
//! when the system has it (else the temporary directory) and removed when the daemon stops.
//! The directory is 0711: run users reach their own files by name but cannot list it.
//!
//! - A script is written once per script text and run user (named by a hash of the text, owned
//!   by the run user, 0700) and reused by every later run, so a call costs no script write.
//!   Editing a hook's script gives it a new file; the old one stays until the daemon stops.
//! - A body file is written per run (0600, owned by the run user) and removed after the run.

use super::RunAs;
use sha2::{Digest, Sha256};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct RunFiles {
    dir: Mutex<Option<tempfile::TempDir>>,
    /// Makes temporary names unique within the directory.
    counter: AtomicU64,
}

/// A run's body file, removed when dropped.
pub struct BodyFile(PathBuf);

impl BodyFile {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for BodyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl RunFiles {
    /// The directory, created if this is the first run (or if creating it failed before).
    fn dir(&self) -> io::Result<PathBuf> {
        let mut dir = self.dir.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = dir.as_ref() {
            return Ok(d.path().to_path_buf());
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix("hookd-runs-");
        // /dev/shm may exist and still refuse writes (a read-only mount in a container).
        let made = builder
            .tempdir_in(base())
            .or_else(|_| builder.tempdir_in(std::env::temp_dir()))?;
        std::fs::set_permissions(made.path(), std::fs::Permissions::from_mode(0o711))?;
        let path = made.path().to_path_buf();
        *dir = Some(made);
        Ok(path)
    }

    /// The path of the hook's script as a file the run user can execute, writing it if it is
    /// not there yet.
    pub fn script(&self, text: &str, user: &RunAs) -> io::Result<PathBuf> {
        let digest = Sha256::digest(text.as_bytes());
        let name = format!(
            "script-{}-{}",
            crate::signature::hex_lower(&digest[..16]),
            user.uid
        );
        let path = self.dir()?.join(name);
        // Nobody else can create files in the directory, so a file under this name is the
        // script. It is looked for on every run (one stat) rather than remembered, in case
        // something removed it, e.g. a session manager cleaning a user's files out of /dev/shm.
        if std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_file() && m.uid() == user.uid.as_raw())
        {
            return Ok(path);
        }
        // Written under a temporary name and renamed, so a run never sees a half-written
        // script; two runs racing here write the same text.
        let tmp = path.with_extension(format!(
            "tmp{}",
            self.counter.fetch_add(1, Ordering::Relaxed)
        ));
        let written = write_new(&tmp, text.as_bytes(), 0o700, user)
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(path)
    }

    /// Writes a run's body to a new 0600 file owned by the run user.
    pub fn body(&self, run_id: i64, body: &[u8], user: &RunAs) -> io::Result<BodyFile> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.dir()?.join(format!("body-{run_id}-{n}"));
        write_new(&path, body, 0o600, user)?;
        Ok(BodyFile(path))
    }

    /// Removes the directory and everything in it (at shutdown).
    pub fn remove(&self) {
        let dir = self.dir.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(dir);
    }
}

/// Creates `path` (which must not exist) with `mode`, owned by the run user, holding `data`.
fn write_new(path: &Path, data: &[u8], mode: u32, user: &RunAs) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    if user.switch {
        std::os::unix::fs::fchown(&f, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
    }
    f.write_all(data)
}

/// Memory-backed `/dev/shm` when the system has it (creating and removing files there costs a
/// fraction of a disk filesystem's inode work, per call), else the temporary directory.
fn base() -> &'static Path {
    static BASE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let usable = std::fs::metadata(shm)
            .is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o1777 == 0o1777);
        if usable {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    })
}
