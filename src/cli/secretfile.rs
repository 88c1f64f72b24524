//! Files hookctl writes secrets into (`apply --tokens-out`): private from the first byte.
//!
//! Such a file is often named in a shared directory (`/tmp`) by a provisioning tool running as
//! root, where another user may have put something first. So: a new file is created 0600 with
//! `O_EXCL | O_NOFOLLOW`; an existing regular file that belongs to the caller is replaced
//! atomically (a new 0600 file in the same directory, then `rename`), so its old mode and any
//! other open handle never see the secrets; a symbolic link is never followed, and a file of
//! another user or anything that is not a regular file is refused. [`check`] runs before the
//! daemon is asked to do anything, so a refused path costs no tokens.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Whether `path` may receive secrets; the error is one sentence naming it.
pub fn check(path: &Path) -> Result<(), String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot use {}: {e}", path.display())),
    };
    let me = nix::unistd::geteuid().as_raw();
    if meta.file_type().is_symlink() {
        Err(format!(
            "refusing to write secrets to {}: it is a symbolic link, which is never followed",
            path.display()
        ))
    } else if !meta.is_file() {
        Err(format!(
            "refusing to write secrets to {}: it is not a regular file",
            path.display()
        ))
    } else if meta.uid() != me {
        Err(format!(
            "refusing to write secrets to {}: it belongs to uid {}, not to this user (uid {me})",
            path.display(),
            meta.uid()
        ))
    } else {
        Ok(())
    }
}

/// Writes `contents` to `path` as a private (0600) file, by the rules above.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), String> {
    check(path)?;
    let failed = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    if std::fs::symlink_metadata(path).is_err() {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(failed)?;
        f.write_all(contents).map_err(failed)?;
        return f.sync_all().map_err(failed);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // tempfile creates with O_EXCL and mode 0600 under a random name.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)
        .map_err(failed)?;
    tmp.write_all(contents).map_err(failed)?;
    tmp.as_file().sync_all().map_err(failed)?;
    // rename replaces the name, never what a link at that name points to.
    tmp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}
