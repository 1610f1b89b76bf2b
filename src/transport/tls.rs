//! TLS for `wss://` and `https://`: rustls with the `ring` provider and the system's roots
//! (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured).

use std::sync::Once;

/// Installs `ring` as the process's rustls provider, unless the application installed one.
pub(crate) fn ensure_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means a provider is already installed: the application's choice wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
