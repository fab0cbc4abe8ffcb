//! The EC2 Query API over HTTP (`vpcd run --api ADDR`): an HTTP/1.1 server (hyper) on
//! an address of the host's loopback (another address only with `--api-remote`), in
//! the host's namespace, so no instance or internet host reaches it. Each request's
//! body is read up to [`MAX_BODY`] bytes (a larger one is refused with
//! `RequestEntityTooLarge`), at most [`MAX_CONNECTIONS`] connections are served at
//! once, and the request goes to `vpc_ec2::Api::handle` (SigV4 against the keys of the
//! credentials file, the action, the XML answer) with the running topology. A change
//! it makes is applied like `vpcctl apply` (`control::apply_with`): in one swap, new
//! instances' namespaces made first; logged with its plan, and written to the state
//! file.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::control;
use crate::state::Shared;

/// The largest request body read: far above any EC2 request the clients send (user
/// data is at most 16 KiB), far below what could hurt.
pub const MAX_BODY: usize = 1 << 20;

/// Connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 64;

/// How long a connection may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Binds the API's address: a loopback address unless `remote`.
pub async fn bind(addr: SocketAddr, remote: bool) -> anyhow::Result<TcpListener> {
    if !addr.ip().is_loopback() && !remote {
        anyhow::bail!(
            "--api {addr} is not a loopback address: the API creates namespaces as root; \
             add --api-remote to serve it there anyway"
        );
    }
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("listen on {addr} for the API: {e}"))
}

/// Serves the API on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, api: Arc<vpc_ec2::Api>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            return;
        };
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("api: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (shared, api) = (Arc::clone(&shared), Arc::clone(&api));
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let (shared, api) = (Arc::clone(&shared), Arc::clone(&api));
                async move { Ok::<_, Infallible>(answer(req, &shared, &api).await) }
            });
            let mut http = http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
            drop(permit);
        });
    }
}

/// One request: its body (bounded), then the API.
async fn answer(
    req: hyper::Request<Incoming>,
    shared: &Arc<Shared>,
    api: &Arc<vpc_ec2::Api>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return reply(api.error_response(
                413,
                "RequestEntityTooLarge",
                &format!("The request is larger than {MAX_BODY} bytes"),
            ));
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let method = parts.method.as_str().to_owned();
    // On a blocking thread: a change waits for the one before it, and may make
    // namespaces, whose netlink sockets the runtime's worker drives.
    let (shared, api) = (Arc::clone(shared), Arc::clone(api));
    let response = tokio::task::spawn_blocking(move || {
        let request = vpc_ec2::Request {
            method: &method,
            path_and_query: &target,
            headers: &headers,
            body: &body,
        };
        handle(&shared, &api, &request)
    })
    .await;
    reply(response.unwrap_or_else(|e| vpc_ec2::Response {
        status: 503,
        content_type: vpc_ec2::CONTENT_TYPE,
        body: format!("the request failed: {e}"),
    }))
}

/// Runs one request against the running topology, and applies what it changed.
fn handle(
    shared: &Shared,
    api: &vpc_ec2::Api,
    request: &vpc_ec2::Request<'_>,
) -> vpc_ec2::Response {
    let mut response = None;
    let result = control::apply_with(shared, |before| {
        let (r, changed) = api.handle(request, before, SystemTime::now());
        response = Some(r);
        changed
    });
    match (response, result) {
        (_, Err(e)) => {
            tracing::warn!("api: not applied: {e}");
            api.error_response(503, "Unavailable", &e)
        }
        (Some(r), Ok(applied)) => {
            if let control::Applied::Changed { plan, state_error } = applied {
                tracing::info!("api: applied {}", plan.join(", "));
                if let Some(e) = state_error {
                    tracing::warn!("api: {e}");
                }
            }
            r
        }
        (None, Ok(_)) => api.error_response(503, "Unavailable", "no answer"),
    }
}

fn reply(r: vpc_ec2::Response) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(r.status)
        .header("content-type", r.content_type)
        .body(Full::new(Bytes::from(r.body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}
