//! `wss://` and `https://` end to end through the CLI: a TLS-terminating proxy with a
//! self-signed certificate for `localhost` in front of the echo servers. The certificate is
//! trusted through `SSL_CERT_FILE`, as a user would trust a private CA.

use std::net::SocketAddr;
use std::process::Output;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::processes::echo_binary;

struct Tls {
    addr: SocketAddr,
    cert_file: tempfile::NamedTempFile,
}

/// Terminates TLS on a random port and relays to `upstream`.
async fn tls_proxy(upstream: SocketAddr) -> Tls {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cert_file.path(), generated.cert.pem()).unwrap();
    let cert = CertificateDer::from(generated.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Tls { addr, cert_file }
}

async fn plain_echo(websocket: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = if websocket {
            echo_cattackle::serve_websocket(listener).await
        } else {
            echo_cattackle::serve_http(listener).await
        };
    });
    addr
}

async fn call(url: &str, kind: &str, cert: Option<&std::path::Path>) -> Output {
    echo_binary();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cattackle.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"tls\"\nversion = \"1\"\ndescription = \"d\"\ncommands = {{ echo = {{ description = \"e\" }} }}\n\
             [mcp]\nmax_retries = 0\n[mcp.transport]\ntype = \"{kind}\"\nurl = \"{url}\"\n"
        ),
    )
    .unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cattackle"));
    command.args(["call", file.to_str().unwrap(), "echo", "--text", "over tls"]);
    command
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    if let Some(cert) = cert {
        command.env("SSL_CERT_FILE", cert);
    }
    command.output().await.unwrap()
}

#[tokio::test]
async fn wss_and_https_work_with_a_trusted_certificate_and_fail_typed_without() {
    for (kind, scheme, websocket) in [("websocket", "wss", true), ("http", "https", false)] {
        let tls = tls_proxy(plain_echo(websocket).await).await;
        let url = format!("{scheme}://localhost:{}/mcp", tls.addr.port());
        let trusted = call(&url, kind, Some(tls.cert_file.path())).await;
        let stderr = String::from_utf8_lossy(&trusted.stderr);
        assert_eq!(trusted.status.code(), Some(0), "{kind}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&trusted.stdout), "over tls\n");

        let untrusted = call(&url, kind, None).await;
        let stderr = String::from_utf8_lossy(&untrusted.stderr).to_lowercase();
        assert_eq!(
            untrusted.status.code(),
            Some(3),
            "{kind}: unreachable: {stderr}"
        );
        assert!(
            stderr.contains("certificate"),
            "{kind}: the error names the certificate problem: {stderr}"
        );
    }
}
