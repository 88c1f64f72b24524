//! The files a run needs: the hook's script and the request body.
//!
//! Both live in one directory per daemon, created on first use under memory-backed `/dev/shm`
//! when the system has it (else the temporary directory) and removed when the daemon stops.
//! The directory is 0711 and hookd's: run users reach their own files by name but can neither
//! list it nor add, rename or remove anything in it. Its name carries the daemon's pid and
//! start time (`hookd-runs-PID-START-…`), so that a later start can tell a dead daemon's
//! directory from a live one's and remove it, after ending the runs it recorded.
//!
//! - A script is written once per script text and run user (named by a hash of the text) and
//!   reused by every later run, so a call costs no script write. It belongs to hookd's user
//!   and the run user's group, mode 0550: the run user reads and executes it and cannot change
//!   it. Before each reuse its owner, group, mode and content hash are checked, and any
//!   difference has it written again, so not even a run as hookd's own user (which could
//!   `chmod` it) changes what the next run executes. Editing a hook's script gives it a new
//!   file; the old one stays until the daemon stops.
//! - A body file is written per run (0600, owned by the run user) and removed after the run,
//!   as are the files of `--file-from` values.
//! - A spill file (0600, hookd's) holds the part of a request body being received that found no
//!   room in the memory budget (`conn_limits`); it is removed once the call has read it back.
//! - A marker file `group-PGID-START` per run records its process group while it may be alive.

use super::{RunAs, kill};
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
        let me = std::process::id();
        let prefix = format!("{PREFIX}{me}-{}-", kill::start_time(me as i32).unwrap_or(0));
        builder.prefix(&prefix);
        // /dev/shm may exist and still refuse writes (a read-only mount in a container).
        let made = builder
            .tempdir_in(base())
            .or_else(|_| builder.tempdir_in(std::env::temp_dir()))?;
        std::fs::set_permissions(made.path(), std::fs::Permissions::from_mode(0o711))?;
        let path = made.path().to_path_buf();
        *dir = Some(made);
        Ok(path)
    }

    /// The path of the hook's script as a file the run user can execute and not change,
    /// writing it if it is not there yet or is not exactly what hookd wrote.
    pub fn script(&self, text: &str, user: &RunAs) -> io::Result<PathBuf> {
        let digest = Sha256::digest(text.as_bytes());
        let name = format!(
            "script-{}-{}",
            crate::signature::hex_lower(&digest[..16]),
            user.uid
        );
        let path = self.dir()?.join(name);
        // Looked at on every run (one stat and one read of a small file) rather than
        // remembered: something may have removed it (a session manager cleaning a user's files
        // out of /dev/shm) or, when the run user is hookd's own, changed it.
        if intact(&path, &digest, user) {
            return Ok(path);
        }
        // Written under a temporary name and renamed over whatever is there, so a run never
        // sees a half-written script; two runs racing here write the same text.
        let tmp = path.with_extension(format!(
            "tmp{}",
            self.counter.fetch_add(1, Ordering::Relaxed)
        ));
        let written =
            write_script(&tmp, text.as_bytes(), user).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(path)
    }

    /// Records the process group led by `leader` with a marker file (see the module's doc),
    /// or `None` when it cannot (the run goes ahead; only crash clean-up is the poorer).
    pub fn mark_group(&self, leader: i32) -> Option<PathBuf> {
        let start = kill::start_time(leader)?;
        let path = self.dir().ok()?.join(kill::marker_name(leader, start));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .ok()?;
        Some(path)
    }

    /// Writes a run's body to a new 0600 file owned by the run user.
    pub fn body(&self, run_id: i64, body: &[u8], user: &RunAs) -> io::Result<BodyFile> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.dir()?.join(format!("body-{run_id}-{n}"));
        write_new(&path, body, 0o600, user)?;
        Ok(BodyFile(path))
    }

    /// A new empty 0600 file of hookd's for the part of a request body that does not fit the
    /// memory budget, opened for reading and writing; the file goes when the guard drops.
    pub fn spill(&self) -> io::Result<(std::fs::File, BodyFile)> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.dir()?.join(format!("spill-{n}"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        Ok((file, BodyFile(path)))
    }

    /// Writes one `--file-from` value to a new 0600 file owned by the run user.
    pub fn value(&self, run_id: i64, data: &[u8], user: &RunAs) -> io::Result<BodyFile> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.dir()?.join(format!("value-{run_id}-{n}"));
        write_new(&path, data, 0o600, user)?;
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

/// The group a script belongs to: the run user's, or hookd's own when it runs as itself.
fn script_gid(user: &RunAs) -> u32 {
    if user.switch {
        user.gid.as_raw()
    } else {
        nix::unistd::getegid().as_raw()
    }
}

const SCRIPT_MODE: u32 = 0o550;

/// Creates a script file (`path` must not exist): hookd's, the run user's group, 0550.
fn write_script(path: &Path, data: &[u8], user: &RunAs) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    if user.switch {
        std::os::unix::fs::fchown(&f, None, Some(user.gid.as_raw()))?;
    }
    // Set after writing and after the group change (which may clear mode bits), and not left
    // to the umask.
    f.set_permissions(std::fs::Permissions::from_mode(SCRIPT_MODE))
}

/// Whether `path` is a script exactly as [`write_script`] leaves it, holding the text whose
/// hash is `digest`.
fn intact(path: &Path, digest: &[u8], user: &RunAs) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    let as_written = meta.is_file()
        && meta.uid() == nix::unistd::geteuid().as_raw()
        && meta.gid() == script_gid(user)
        && meta.mode() & 0o7777 == SCRIPT_MODE;
    as_written && std::fs::read(path).is_ok_and(|text| Sha256::digest(&text)[..] == *digest)
}

const PREFIX: &str = "hookd-runs-";

/// Removes the run directories of daemons that are no longer running (found by the pid and
/// start time in their names; only directories of this user), first killing the process
/// groups they recorded. Returns how many directories were removed.
pub fn remove_stale() -> usize {
    // Without /proc nothing can be told apart: leave everything alone.
    if kill::start_time(std::process::id() as i32).is_none() {
        return 0;
    }
    let me = nix::unistd::geteuid().as_raw();
    let mut bases = vec![base().to_path_buf(), std::env::temp_dir()];
    bases.dedup();
    let mut removed = 0;
    for base in bases {
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some((pid, start)) = entry.file_name().to_str().and_then(owner_of) else {
                continue;
            };
            let ours = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == me);
            if !ours || kill::start_time(pid) == Some(start) {
                continue;
            }
            let ended = kill::end_recorded(&path);
            if std::fs::remove_dir_all(&path).is_ok() {
                tracing::debug!(dir = %path.display(), groups = ended, "removed a stale run directory");
                removed += 1;
            }
        }
    }
    removed
}

/// The pid and start time of the daemon a run directory's name says it belongs to.
fn owner_of(name: &str) -> Option<(i32, u64)> {
    let mut parts = name.strip_prefix(PREFIX)?.splitn(3, '-');
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((pid, start))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_directory_names_say_whose_they_are() {
        assert_eq!(
            owner_of("hookd-runs-4242-98765-AbC123"),
            Some((4242, 98765))
        );
        // Directories of releases that did not record their daemon are not anybody's.
        assert_eq!(owner_of("hookd-runs-AbC123"), None);
        assert_eq!(owner_of("hookd-runs-12-AbC123"), None);
        assert_eq!(owner_of("other-4242-98765-AbC123"), None);
    }
}
