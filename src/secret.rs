//! Secret values and references to them: `@file:/path` and `@credential:NAME`.
//!
//! A secret option (a verification or signing secret, basic auth, a bearer token, an outgoing
//! header, a script's `--env` value) holds either the value itself or a reference. A reference
//! is stored as written and read by the daemon each time the secret is used, so the value
//! never passes through hookctl's argv, the socket or the database, and replacing the file (or
//! systemd's `LoadCredential=`) changes the secret without touching the hook. A trailing
//! newline is trimmed, since `echo … > file` writes one.
//!
//! Reading is bounded: only regular files, opened without blocking (a FIFO cannot stall the
//! daemon), at most [`MAX_LEN`] bytes. Errors name the reference, never the value.

use std::borrow::Cow;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub const FILE_PREFIX: &str = "@file:";
pub const CREDENTIAL_PREFIX: &str = "@credential:";
/// The largest secret file read.
pub const MAX_LEN: u64 = 64 * 1024;

/// Where a secret option's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    Inline(&'a str),
    File(&'a str),
    Credential(&'a str),
}

impl<'a> Source<'a> {
    pub fn of(value: &'a str) -> Source<'a> {
        if let Some(p) = value.strip_prefix(FILE_PREFIX) {
            Source::File(p)
        } else if let Some(n) = value.strip_prefix(CREDENTIAL_PREFIX) {
            Source::Credential(n)
        } else {
            Source::Inline(value)
        }
    }
}

/// Whether `value` is a reference rather than the secret itself.
pub fn is_reference(value: &str) -> bool {
    !matches!(Source::of(value), Source::Inline(_))
}

/// A reference that could not be read. Shows the reference (a path or a credential name, not
/// secret) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the secret {reference}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: String,
}

/// The secret `value` stands for: itself, or what its reference holds now.
pub fn resolve(value: &str) -> Result<Cow<'_, str>, ReferenceError> {
    let fail = |reason: String| ReferenceError {
        reference: value.to_string(),
        reason,
    };
    match Source::of(value) {
        Source::Inline(v) => Ok(Cow::Borrowed(v)),
        Source::File(path) => {
            if !path.starts_with('/') {
                return Err(fail("the path must be absolute".into()));
            }
            read_secret_file(Path::new(path))
                .map(Cow::Owned)
                .map_err(fail)
        }
        Source::Credential(name) => {
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(fail("not a credential name".into()));
            }
            let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
                return Err(fail(
                    "CREDENTIALS_DIRECTORY is not set (hookd was not started with systemd's \
                     LoadCredential=)"
                        .into(),
                ));
            };
            read_secret_file(&Path::new(&dir).join(name))
                .map(Cow::Owned)
                .map_err(fail)
        }
    }
}

fn read_secret_file(path: &Path) -> Result<String, String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_LEN {
        return Err(format!("larger than {} KiB", MAX_LEN / 1024));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err("it is empty".into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(Source::of("abc"), Source::Inline("abc"));
        assert_eq!(Source::of("@file:/x"), Source::File("/x"));
        assert_eq!(Source::of("@credential:db"), Source::Credential("db"));
        assert!(!is_reference("@filex"));
    }

    #[test]
    fn files_are_read_trimmed_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "hunter2\r\n").unwrap();
        let r = format!("@file:{}", p.display());
        assert_eq!(resolve(&r).unwrap(), "hunter2");
        std::fs::write(&p, "\n").unwrap();
        assert!(resolve(&r).unwrap_err().to_string().contains("empty"));
        std::fs::write(&p, vec![b'a'; MAX_LEN as usize + 1]).unwrap();
        assert!(resolve(&r).unwrap_err().reason.contains("larger"));
        let e = resolve("@file:relative/path").unwrap_err();
        assert_eq!(e.reference, "@file:relative/path");
        assert!(resolve(&format!("@file:{}", dir.path().display())).is_err());
        assert!(resolve("@credential:../x").is_err());
    }

    #[test]
    fn a_fifo_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = resolve(&format!("@file:{}", p.display())).unwrap_err();
        assert_eq!(e.reason, "not a regular file");
    }
}
