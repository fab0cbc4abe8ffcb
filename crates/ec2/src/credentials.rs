//! The API's access keys and the credentials file: the only file I/O of this crate.
//!
//! The file is in the AWS CLI's shared-credentials format (INI): one profile section per
//! key, `aws_access_key_id` and `aws_secret_access_key` in it, and one key of vpcd's own,
//! `vpcd_account_id`, naming the account (12 digits) the key acts as (default
//! [`vpc_config::DEFAULT_ACCOUNT`]). The AWS CLI, boto3 and the Go SDK ignore keys they
//! do not know, so the same file works as `AWS_SHARED_CREDENTIALS_FILE` for them:
//!
//! ```ini
//! [default]
//! aws_access_key_id = AKIA...
//! aws_secret_access_key = ...
//! vpcd_account_id = 123456789012
//! ```
//!
//! [`Credentials::load_or_create`] creates a missing file (mode 0600, written to a
//! temporary file and renamed into place) with a fresh key per account: `[default]`
//! for the first, `[account-<id>]` for the others; a file that exists gets a section
//! for each account that has no key yet, rewritten the same way. It refuses a file that
//! its group or others may read or write: the secrets would not be secret. Fresh keys
//! come from `/dev/urandom`: an access key ID is `AKIA` and 16 uppercase letters and
//! digits, a secret 40 characters of `A-Z a-z 0-9 + /`, like AWS's.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use vpc_config::DEFAULT_ACCOUNT;
use vpc_config::account::is_account_id;

/// Why the credentials file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Reading, creating or renaming failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
    /// Group or others may access the file.
    #[error("{path}: mode {mode:o} lets other users read the secrets; run `chmod 600 {path}`")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A line that is not a section, a `key = value` pair, a comment or blank.
    #[error("line {line}: {problem}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// One access key's secret and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The secret access key.
    pub secret: String,
    /// The account (12 digits) the key acts as.
    pub account: String,
}

/// The access keys the API accepts: access key ID to secret and account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    keys: BTreeMap<String, Key>,
}

impl Credentials {
    /// Adds (or replaces) a key.
    pub fn insert(&mut self, access_key: &str, secret: &str, account: &str) {
        self.keys.insert(
            access_key.to_owned(),
            Key {
                secret: secret.to_owned(),
                account: account.to_owned(),
            },
        );
    }

    /// The key with ID `access_key`.
    pub fn get(&self, access_key: &str) -> Option<&Key> {
        self.keys.get(access_key)
    }

    /// Every key: (access key ID, key), in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Key)> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether some key acts as `account`.
    pub fn has_account(&self, account: &str) -> bool {
        self.keys.values().any(|k| k.account == account)
    }

    /// Parses the text of a credentials file. A section without both key ID and secret
    /// is skipped (the AWS CLI's file may hold other profiles, e.g. with a
    /// `role_arn`).
    pub fn parse(text: &str) -> Result<Credentials, CredentialsError> {
        let mut out = Credentials::default();
        let mut section: Option<BTreeMap<String, String>> = None;
        let flush = |s: Option<BTreeMap<String, String>>, out: &mut Credentials| {
            let Some(s) = s else { return Ok(()) };
            if let (Some(id), Some(secret)) =
                (s.get("aws_access_key_id"), s.get("aws_secret_access_key"))
            {
                let account = s
                    .get("vpcd_account_id")
                    .map_or(DEFAULT_ACCOUNT, |a| a.as_str());
                out.insert(id, secret, account);
            }
            Ok::<(), CredentialsError>(())
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[') {
                if !name.ends_with(']') {
                    return Err(CredentialsError::Syntax {
                        line: i + 1,
                        problem: "a section header must end with ']'".to_owned(),
                    });
                }
                flush(section.take(), &mut out)?;
                section = Some(BTreeMap::new());
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(CredentialsError::Syntax {
                    line: i + 1,
                    problem: "expected `key = value`".to_owned(),
                });
            };
            let Some(s) = section.as_mut() else {
                return Err(CredentialsError::Syntax {
                    line: i + 1,
                    problem: "a key before the first [section]".to_owned(),
                });
            };
            let (k, v) = (k.trim(), v.trim());
            if k == "vpcd_account_id" && !is_account_id(v) {
                return Err(CredentialsError::Syntax {
                    line: i + 1,
                    problem: format!("vpcd_account_id {v:?} is not an account ID (12 digits)"),
                });
            }
            s.insert(k.to_owned(), v.to_owned());
        }
        flush(section.take(), &mut out)?;
        Ok(out)
    }

    /// Reads the credentials file at `path`, creating it (or adding sections to it) so
    /// that each of `accounts` has a key; see the module's documentation.
    pub fn load_or_create(path: &Path, accounts: &[&str]) -> Result<Credentials, CredentialsError> {
        let io = |error| CredentialsError::Io {
            path: path.to_owned(),
            error,
        };
        let text = match std::fs::metadata(path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(CredentialsError::Permissions {
                        path: path.to_owned(),
                        mode,
                    });
                }
                Some(std::fs::read_to_string(path).map_err(io)?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let mut creds = match &text {
            Some(t) => Credentials::parse(t)?,
            None => Credentials::default(),
        };
        let mut added = String::new();
        let mut first = text.is_none();
        for account in accounts {
            if creds.has_account(account) {
                continue;
            }
            let (id, secret) = fresh_key().map_err(io)?;
            let section = if first {
                "default".to_owned()
            } else {
                format!("account-{account}")
            };
            first = false;
            if !added.is_empty() || text.as_deref().is_some_and(|t| !t.is_empty()) {
                added.push('\n');
            }
            added.push_str(&format!(
                "[{section}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nvpcd_account_id = {account}\n"
            ));
            creds.insert(&id, &secret, account);
        }
        if !added.is_empty() {
            let mut all = text.unwrap_or_default();
            if !all.is_empty() && !all.ends_with('\n') {
                all.push('\n');
            }
            all.push_str(&added);
            write_private(path, &all).map_err(io)?;
        }
        Ok(creds)
    }
}

/// Writes `text` to `path` with mode 0600: to a new temporary file next to it, then
/// renamed over it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A fresh access key ID and secret from `/dev/urandom`.
fn fresh_key() -> std::io::Result<(String, String)> {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut random = std::fs::File::open("/dev/urandom")?;
    let mut id = String::from("AKIA");
    let mut buf = [0u8; 64];
    while id.len() < 20 {
        random.read_exact(&mut buf)?;
        // Bytes below 252 (7 * 36) map onto the 36 characters without bias.
        for &b in buf.iter().filter(|&&b| b < 252) {
            if id.len() < 20 {
                id.push(UPPER[usize::from(b) % 36] as char);
            }
        }
    }
    random.read_exact(&mut buf)?;
    let secret = buf[..40]
        .iter()
        .map(|&b| SECRET[usize::from(b) % 64] as char)
        .collect();
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vpc-ec2-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn parses_profiles_with_accounts() {
        let c = Credentials::parse(
            "# comment\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n\n[other]\naws_access_key_id=AKIA2\naws_secret_access_key=s2\nvpcd_account_id = 111122223333\n[role]\nrole_arn = x\n",
        )
        .unwrap();
        assert_eq!(c.get("AKIA1").unwrap().account, DEFAULT_ACCOUNT);
        assert_eq!(
            c.get("AKIA2").unwrap(),
            &Key {
                secret: "s2".into(),
                account: "111122223333".into()
            }
        );
        assert_eq!(c.iter().count(), 2);
        assert!(Credentials::parse("key = v\n").is_err());
        assert!(Credentials::parse("[a]\nvpcd_account_id = 12\n").is_err());
    }

    #[test]
    fn a_missing_file_is_created_private_and_read_back() {
        let dir = temp_dir("create");
        let path = dir.join("credentials");
        let c = Credentials::load_or_create(&path, &[DEFAULT_ACCOUNT]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("[default]\naws_access_key_id = AKIA"),
            "{text}"
        );
        let (id, key) = c.iter().next().unwrap();
        assert_eq!(id.len(), 20);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(key.secret.len(), 40);
        assert_eq!(key.account, DEFAULT_ACCOUNT);
        // Read again: the same key; a new account gets its own section.
        let again = Credentials::load_or_create(&path, &[DEFAULT_ACCOUNT]).unwrap();
        assert_eq!(again, c);
        let more = Credentials::load_or_create(&path, &[DEFAULT_ACCOUNT, "444455556666"]).unwrap();
        assert_eq!(more.iter().count(), 2);
        assert!(more.has_account("444455556666"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\n\n[account-444455556666]\n"), "{text}");
        assert_eq!(Credentials::load_or_create(&path, &[]).unwrap(), more);
        // Readable by others: refused.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Credentials::load_or_create(&path, &[]).unwrap_err();
        assert!(
            matches!(e, CredentialsError::Permissions { mode: 0o644, .. }),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
