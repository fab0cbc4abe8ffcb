//! The flow log files (AWS: VPC Flow Logs delivered as text files): opens each flow
//! log's destination, writes the header line AWS puts at the top of a log file, and
//! appends the records the dataplane's flow logs hand over, one line each, in the flow
//! log's format (`vpc_dataplane::flowlog::format_record`). Also the mapping from the
//! dataplane's monotonic [`Time`] to the Unix seconds of a record's `start` and `end`.
//!
//! A write failure (disk full, file removed from under a bind mount) is logged once per
//! file until a write to it succeeds again; it never stops the daemon.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vpc_config::{FlowLog, Topology};
use vpc_dataplane::Time;
use vpc_dataplane::flowlog::{FlowRecord, format_record, header_line};

use crate::error::SetupError;

/// Permissions of a flow log file the daemon creates: owner read/write, group read.
const MODE: u32 = 0o640;

/// Maps the dataplane's [`Time`] (nanoseconds since the daemon's epoch) to Unix time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallClock {
    /// The Unix time of the epoch, in nanoseconds since 1970.
    epoch_unix_nanos: u128,
}

impl WallClock {
    /// A clock for the dataplane [`Time`] that counts from `start_instant` (the
    /// `Instant` that `Time::ZERO` stands for: the daemon's epoch, `Shared::epoch`),
    /// where `start_unix` is the wall-clock time read at that same instant. Only the
    /// wall-clock time is kept: a `Time` is an offset from the epoch either way, so the
    /// instant is taken to keep the pairing explicit at the call site.
    pub(crate) fn new(start_instant: Instant, start_unix: SystemTime) -> WallClock {
        let _ = start_instant;
        WallClock {
            epoch_unix_nanos: start_unix
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_nanos(),
        }
    }

    /// Unix seconds at dataplane time `t`.
    pub(crate) fn unix_secs(&self, t: Time) -> u64 {
        let nanos = self.epoch_unix_nanos + u128::from(t.as_nanos());
        u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX)
    }
}

/// One open log file (flow logs with the same destination share it).
#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    out: BufWriter<File>,
    /// Whether the last write failed (and was logged).
    failing: bool,
}

/// The flow logs' files, open for appending.
#[derive(Debug)]
pub(crate) struct FlowLogWriter {
    files: Vec<LogFile>,
    /// Per flow log of the topology it was opened for: its name and its file (an index
    /// into `files`).
    logs: Vec<(String, usize)>,
    /// The base of relative destinations.
    dir: PathBuf,
}

impl FlowLogWriter {
    /// Opens (creating if needed, mode 0640, with their parent directories) the files of
    /// every flow log of `topology`: a relative destination is relative to `dir`. A new
    /// or empty file gets the header line of its first flow log's format.
    pub(crate) fn open(topology: &Topology, dir: &Path) -> Result<FlowLogWriter, SetupError> {
        let mut w = FlowLogWriter {
            files: Vec::new(),
            logs: Vec::new(),
            dir: dir.to_owned(),
        };
        for log in &topology.flow_logs {
            let i = w.file(log)?;
            w.logs.push((log.name.clone(), i));
        }
        Ok(w)
    }

    /// The index in `files` of flow log `log`'s file, opened (and given its header)
    /// if no flow log has used it yet.
    fn file(&mut self, log: &FlowLog) -> Result<usize, SetupError> {
        let path = self.dir.join(&log.destination);
        if let Some(i) = self.files.iter().position(|f| f.path == path) {
            return Ok(i);
        }
        let what = |doing: &str| format!("flow log {}: {doing} {}", log.name, path.display());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(SetupError::io(what("create the directory of")))?;
        }
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(MODE)
            .open(&path)
            .map_err(SetupError::io(what("open")))?;
        let len = file.metadata().map_err(SetupError::io(what("stat")))?.len();
        let mut out = BufWriter::new(file);
        if len == 0 {
            writeln!(out, "{}", header_line(log))
                .and_then(|()| out.flush())
                .map_err(SetupError::io(what("write the header of")))?;
        }
        self.files.push(LogFile {
            path,
            out,
            failing: false,
        });
        Ok(self.files.len() - 1)
    }

    /// Each flow log's name and file, in the order of the topology it was opened for.
    pub(crate) fn paths(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.logs.iter().filter_map(|(name, i)| {
            self.files
                .get(*i)
                .map(|f| (name.as_str(), f.path.as_path()))
        })
    }

    /// Appends `records` to their flow logs' files, one line each, and flushes. `t` is
    /// the running topology, whose flow logs the records name: a flow log added at run
    /// time (`vpcctl apply`) gets its file then. A failure is logged (once per file
    /// until it recovers) and otherwise ignored.
    pub(crate) fn write(&mut self, t: &Topology, records: &[FlowRecord], clock: &WallClock) {
        let mut errors: Vec<Option<std::io::Error>> = Vec::new();
        for r in records {
            let Some(log) = t.flow_logs.get(r.log.index()) else {
                continue;
            };
            let f = match self.file(log) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!("{e}");
                    continue;
                }
            };
            errors.resize_with(self.files.len(), || None);
            let (Some(file), Some(error)) = (self.files.get_mut(f), errors.get_mut(f)) else {
                continue;
            };
            let line = format_record(t, log, r, |time| clock.unix_secs(time));
            if let Err(e) = writeln!(file.out, "{line}")
                && error.is_none()
            {
                *error = Some(e);
            }
        }
        errors.resize_with(self.files.len(), || None);
        for (file, error) in self.files.iter_mut().zip(errors) {
            let result = file.out.flush();
            match error.or(result.err()) {
                Some(e) => {
                    if !file.failing {
                        tracing::warn!("flow log {}: {e}", file.path.display());
                    }
                    file.failing = true;
                }
                None => {
                    if file.failing {
                        tracing::info!("flow log {}: writing again", file.path.display());
                    }
                    file.failing = false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use vpc_config::{
        DEFAULT_FLOW_LOG_FORMAT, EniId, FlowLog, FlowLogId, FlowLogResource, TrafficType, VpcId,
    };
    use vpc_dataplane::flowlog::{Action, Direction, LogStatus, TrafficPath};

    /// A directory under the system's temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(what: &str) -> TempDir {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let dir = std::env::temp_dir().join(format!(
                "vpcd-flowlog-{what}-{}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn topology(destinations: &[String]) -> Topology {
        let mut t = Topology::demo();
        t.flow_logs = destinations
            .iter()
            .enumerate()
            .map(|(i, d)| FlowLog {
                name: format!("log{i}"),
                resource: FlowLogResource::Vpc(VpcId(0)),
                traffic_type: TrafficType::All,
                destination: d.clone(),
                format: DEFAULT_FLOW_LOG_FORMAT.to_vec(),
                max_aggregation_interval: 60,
                delivery: None,
            })
            .collect();
        t
    }

    fn record(log: u32, src_port: u16) -> FlowRecord {
        FlowRecord {
            log: FlowLogId(log),
            interface: EniId(0).into(),
            status: LogStatus::Ok,
            proto: 6,
            src: [10, 0, 1, 10].into(),
            dst: [10, 0, 2, 10].into(),
            src_port,
            dst_port: 8080,
            packets: 5,
            bytes: 320,
            start: Time::from_secs(0),
            end: Time::from_secs(4),
            action: Action::Accept,
            tcp_flags: 3,
            direction: Direction::Egress,
            traffic_path: Some(TrafficPath::SameVpc),
        }
    }

    /// A clock whose epoch is Unix time 1763700000.5.
    fn clock() -> WallClock {
        let unix = UNIX_EPOCH + Duration::from_millis(1_763_700_000_500);
        WallClock::new(Instant::now(), unix)
    }

    const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport \
                          protocol packets bytes start end action log-status";

    #[test]
    fn wall_clock_maps_time_to_unix_seconds() {
        let c = clock();
        assert_eq!(c.unix_secs(Time::ZERO), 1_763_700_000);
        assert_eq!(c.unix_secs(Time::from_secs(4)), 1_763_700_004);
        assert_eq!(c.unix_secs(Time::from_nanos(600_000_000)), 1_763_700_001);
        assert_eq!(
            WallClock::new(Instant::now(), UNIX_EPOCH).unix_secs(Time::ZERO),
            0
        );
    }

    #[test]
    fn writes_the_header_once_and_appends_records() {
        let tmp = TempDir::new("append");
        let path = tmp.0.join("logs/a.log");
        let t = topology(&[path.display().to_string()]);
        let mut w = FlowLogWriter::open(&t, Path::new("/nonexistent")).unwrap();
        assert_eq!(w.paths().collect::<Vec<_>>(), [("log0", path.as_path())]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777 & !MODE, 0, "mode {mode:o}");
        w.write(&t, &[record(0, 43122)], &clock());
        drop(w);

        // Reopened (a restart): no second header, records appended.
        let mut w = FlowLogWriter::open(&t, Path::new("/nonexistent")).unwrap();
        w.write(&t, &[record(0, 43123), record(0, 43124)], &clock());
        w.write(&t, &[], &clock());
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                HEADER,
                "2 123456789012 eni-web-eth0 10.0.1.10 10.0.2.10 43122 8080 6 5 320 1763700000 1763700004 ACCEPT OK",
                "2 123456789012 eni-web-eth0 10.0.1.10 10.0.2.10 43123 8080 6 5 320 1763700000 1763700004 ACCEPT OK",
                "2 123456789012 eni-web-eth0 10.0.1.10 10.0.2.10 43124 8080 6 5 320 1763700000 1763700004 ACCEPT OK",
            ]
        );
    }

    #[test]
    fn relative_destinations_are_resolved_against_the_directory() {
        let tmp = TempDir::new("relative");
        let t = topology(&[
            "vpc/x.log".to_owned(),
            "y.log".to_owned(),
            "vpc/x.log".to_owned(),
        ]);
        let mut w = FlowLogWriter::open(&t, &tmp.0).unwrap();
        let x = tmp.0.join("vpc/x.log");
        let y = tmp.0.join("y.log");
        assert_eq!(
            w.paths().collect::<Vec<_>>(),
            [
                ("log0", x.as_path()),
                ("log1", y.as_path()),
                ("log2", x.as_path())
            ]
        );
        w.write(&t, &[record(1, 1), record(0, 2), record(2, 3)], &clock());
        let x_lines = std::fs::read_to_string(&x).unwrap();
        let x_ports: Vec<&str> = x_lines
            .lines()
            .map(|l| l.split(' ').nth(5).unwrap_or(""))
            .collect();
        assert_eq!(x_ports, ["srcport", "2", "3"]);
        let y_lines = std::fs::read_to_string(&y).unwrap();
        assert_eq!(y_lines.lines().count(), 2);
    }

    /// A flow log the running topology gained after the writer was opened (an apply)
    /// gets its file, with its header, when its first records come.
    #[test]
    fn a_flow_log_added_at_run_time_gets_its_file() {
        let tmp = TempDir::new("added");
        let before = topology(&["x.log".to_owned()]);
        let mut w = FlowLogWriter::open(&before, &tmp.0).unwrap();
        let after = topology(&["x.log".to_owned(), "new/z.log".to_owned()]);
        w.write(&after, &[record(1, 7), record(0, 8)], &clock());
        let z = std::fs::read_to_string(tmp.0.join("new/z.log")).unwrap();
        let z: Vec<&str> = z.lines().collect();
        assert_eq!(z.len(), 2, "{z:?}");
        assert_eq!(z[0], HEADER);
        assert_eq!(z[1].split(' ').nth(5), Some("7"));
        let x = std::fs::read_to_string(tmp.0.join("x.log")).unwrap();
        assert_eq!(
            x.lines().nth(1).and_then(|l| l.split(' ').nth(5)),
            Some("8")
        );
    }

    #[test]
    fn an_unwritable_destination_is_a_setup_error() {
        let tmp = TempDir::new("error");
        std::fs::write(tmp.0.join("file"), "").unwrap();
        let t = topology(&["file/x.log".to_owned()]);
        let e = FlowLogWriter::open(&t, &tmp.0).unwrap_err();
        assert!(
            matches!(&e, SetupError::Io { what, .. } if what.starts_with("flow log log0: ")),
            "{e}"
        );
    }
}
