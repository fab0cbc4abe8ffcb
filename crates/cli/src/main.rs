//! The `vpcctl` binary: runs [`vpcctl::run`] and maps its errors to an exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    match vpcctl::run(std::env::args_os(), &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(vpcctl::CtlError::Usage(e)) => e.exit(),
        // The reader went away (`vpcctl counters | head`): nothing left to say.
        Err(vpcctl::CtlError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vpcctl: {e}");
            ExitCode::FAILURE
        }
    }
}
