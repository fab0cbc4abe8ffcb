//! Once a second: expire idle tracked connections, and write the flow-log records of
//! every aggregation interval that has ended. At shutdown: write every record still
//! accumulated (AWS publishes a flow log's records at the end of each interval; vpcd
//! also flushes when it stops, so nothing seen is lost).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vpc_dataplane::flowlog::FlowRecord;

use crate::flowlog::{FlowLogWriter, WallClock};
use crate::state::Shared;

/// The flow-log files and the clock that dates their records.
#[derive(Debug)]
pub struct FlowLogOutput {
    writer: Mutex<FlowLogWriter>,
    clock: WallClock,
}

impl FlowLogOutput {
    pub fn new(writer: FlowLogWriter, clock: WallClock) -> Self {
        FlowLogOutput {
            writer: Mutex::new(writer),
            clock,
        }
    }

    fn write(&self, shared: &Shared, records: &[FlowRecord]) {
        if records.is_empty() {
            return;
        }
        // The running topology: the records name its flow logs.
        let snapshot = shared.snapshot();
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).write(
            snapshot.topology(),
            records,
            &self.clock,
        );
    }
}

/// Runs until aborted.
pub async fn run(shared: Arc<Shared>, logs: Arc<FlowLogOutput>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut records = Vec::new();
    loop {
        tick.tick().await;
        let now = shared.now();
        shared.engine().load().expire(now);
        shared.engine().flush_flow_logs(now, &mut records);
        logs.write(&shared, &records);
        records.clear();
    }
}

/// Writes every record the dataplane still holds.
pub fn flush(shared: &Shared, logs: &FlowLogOutput) {
    let mut records = Vec::new();
    let now = shared.now();
    shared.engine().flush_all_flow_logs(now, &mut records);
    logs.write(shared, &records);
}
