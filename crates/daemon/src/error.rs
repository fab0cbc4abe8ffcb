//! Errors setting up or tearing down what the daemon owns on the host.

/// Setting up namespaces, devices or the control socket failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A system call failed.
    #[error("{what}: {error}")]
    Os {
        /// What the daemon was doing.
        what: String,
        /// The error (in the message, not chained as a source: it would print twice).
        error: nix::Error,
    },
    /// An I/O operation failed.
    #[error("{what}: {error}")]
    Io {
        /// What the daemon was doing.
        what: String,
        /// The error (in the message, not chained as a source).
        error: std::io::Error,
    },
    /// A netlink request failed.
    #[error("{what}: {error}")]
    Netlink {
        /// What the daemon was doing.
        what: String,
        /// The error (in the message, not chained as a source).
        error: rtnetlink::Error,
    },
    /// A namespace of that name exists and is not a leftover of vpcd.
    #[error(
        "network namespace {name:?} already exists and was not created by vpcd; remove it (ip netns del {name}) or run with --netns-prefix"
    )]
    NamespaceExists {
        /// The namespace name.
        name: String,
    },
    /// A helper thread could not be run.
    #[error("helper thread: {0}")]
    Thread(String),
}

impl SetupError {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SetupError {
        let what = what.into();
        move |error| SetupError::Io { what, error }
    }

    /// Wraps a netlink error with what was being done.
    pub fn netlink(what: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> SetupError {
        let what = what.into();
        move |error| SetupError::Netlink { what, error }
    }
}
