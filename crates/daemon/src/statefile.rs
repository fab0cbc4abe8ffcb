//! The state file (`vpcd run --state FILE`): the running configuration, written back
//! after every change made at run time (`vpcctl` changes, `vpcctl apply`, SIGHUP) in
//! the format of `--config` (`vpc_config::to_toml`), so a person can read and edit it;
//! at the next start, if it exists, it is what runs. Written atomically: a new file
//! (mode 0600; its directory is made if missing) is written and flushed to disk beside it, then renamed over it, then the
//! directory is flushed, so a crash leaves the old state or the new one, never half.
//!
//! Only the configuration survives a restart. The namespaces are made anew, so what
//! ran inside them is gone, and with it every tracked connection and NAT translation:
//! clients reconnect, as after an instance's reboot in AWS.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use vpc_config::Topology;

/// Where the state goes.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    /// Writes go one at a time.
    writing: Mutex<()>,
}

impl StateFile {
    /// The state file at `path`.
    pub fn new(path: &Path) -> StateFile {
        StateFile {
            path: path.to_owned(),
            writing: Mutex::new(()),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration it holds, or `None` if there is no file yet.
    pub fn load(&self) -> Result<Option<Topology>, vpc_config::ConfigError> {
        if !self.path.exists() {
            return Ok(None);
        }
        vpc_config::load(&self.path).map(Some)
    }

    /// Writes `topology` atomically in its place.
    pub fn save(&self, topology: &Topology) -> std::io::Result<()> {
        let _one = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let text = format!(
            "# vpcd's state: the running configuration, written after each change made at\n\
             # run time. `vpcd run --state {}` starts from it.\n\n{}",
            self.path.display(),
            vpc_config::to_toml(topology)
        );
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".to_owned());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| {
            std::fs::create_dir_all(&dir)?;
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            File::open(&dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_written_whole_and_read_back() {
        let dir = std::env::temp_dir().join(format!("vpcd-statefile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Its directory is made.
        let f = StateFile::new(&dir.join("sub").join("state.toml"));
        assert_eq!(f.load().unwrap(), None, "no file yet");
        let demo = Topology::demo();
        f.save(&demo).unwrap();
        let mut changed = demo.clone();
        changed.delete_nat_gateway("nat-a").unwrap();
        f.save(&changed).unwrap();
        assert_eq!(f.load().unwrap(), Some(changed));
        // Nothing else is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["state.toml"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
