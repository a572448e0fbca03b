//! A loopback HTTPS server for the TLS option tests. Its certificates are generated here with
//! rcgen: a CA, a server certificate for `127.0.0.1` and `localhost` signed by it, and, for
//! mutual TLS, a second CA and a client certificate it signed, which the server then requires.
//! Each request read is counted and answered with one scripted response.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A certificate and its key, as PEM.
pub struct Pem {
    pub cert: String,
    pub key: String,
}

/// A generated certificate authority.
pub struct Ca {
    pub cert: String,
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        Ca {
            cert: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `names` (host names or addresses) signed by this CA.
    pub fn issue(&self, names: &[&str]) -> Pem {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "flowstep test");
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// A running HTTPS server.
pub struct TlsServer {
    pub addr: SocketAddr,
    /// The CA that signed the server's certificate.
    pub ca: Ca,
    /// The client certificate the server accepts, when it requires one.
    pub client: Option<Pem>,
    requests: Arc<AtomicUsize>,
}

impl TlsServer {
    /// Starts a server answering every request with `answer` (a raw HTTP response); with
    /// `mutual`, it requires a client certificate signed by a CA of its own.
    pub fn start(answer: String, mutual: bool) -> TlsServer {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let ca = Ca::new("flowstep test server CA");
        let server = ca.issue(&["127.0.0.1", "localhost"]);
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let (builder, client) = if mutual {
            let client_ca = Ca::new("flowstep test client CA");
            let mut roots = rustls::RootCertStore::empty();
            roots.add(client_ca.der.clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            (
                builder.with_client_cert_verifier(verifier),
                Some(client_ca.issue(&["client.example"])),
            )
        } else {
            (builder.with_no_client_auth(), None)
        };
        let config = Arc::new(
            builder
                .with_single_cert(vec![der_of(&server.cert)], key_of(&server.key))
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (config, counted, answer) = (config.clone(), counted.clone(), answer.clone());
                std::thread::spawn(move || serve(stream, config, &counted, &answer));
            }
        });
        TlsServer {
            addr,
            ca,
            client,
            requests,
        }
    }

    /// `https://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// How many requests were read (after a completed handshake).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Writes the server's CA (`ca.pem`) and, for mutual TLS, the client's certificate and key
    /// (`client.pem`, `client.key`) under `dir`.
    pub fn write_files(&self, dir: &Path) {
        std::fs::write(dir.join("ca.pem"), &self.ca.cert).unwrap();
        if let Some(c) = &self.client {
            std::fs::write(dir.join("client.pem"), &c.cert).unwrap();
            std::fs::write(dir.join("client.key"), &c.key).unwrap();
        }
    }
}

fn der_of(pem: &str) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

fn key_of(pem: &str) -> PrivateKeyDer<'static> {
    use rustls::pki_types::pem::PemObject;
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap())
}

fn serve(
    mut tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    counted: &AtomicUsize,
    answer: &str,
) {
    let Ok(mut conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    while conn.is_handshaking() {
        while conn.wants_write() {
            if conn.write_tls(&mut tcp).is_err() {
                return;
            }
        }
        if !conn.is_handshaking() {
            break;
        }
        if matches!(conn.read_tls(&mut tcp), Ok(0) | Err(_)) {
            return;
        }
        if conn.process_new_packets().is_err() {
            // A refused client certificate. In TLS 1.3 the client has finished its side of
            // the handshake by now and sends its request at once; across a real network that
            // request is on its way before the alert arrives. On loopback the alert can win
            // the race and close the connection before the client hands the request over, so
            // the alert waits as long as a slow network would make it.
            std::thread::sleep(std::time::Duration::from_millis(200));
            while conn.wants_write() && conn.write_tls(&mut tcp).is_ok() {}
            return linger(tcp);
        }
    }
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    counted.fetch_add(1, Ordering::SeqCst);
    let _ = tls.write_all(answer.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// Closes a connection the handshake failed on the way real servers do (nginx's lingering
/// close): stop writing, then read what the client already sent until it closes. Rustls has
/// written its alert by now; closing with the client's request still unread would make the
/// kernel send a reset, and a reset can reach the client before it reads the alert, so the
/// client would see "connection reset" instead of the alert at random.
fn linger(tcp: TcpStream) {
    let _ = tcp.shutdown(std::net::Shutdown::Write);
    let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut sink = [0u8; 4096];
    while matches!((&tcp).read(&mut sink), Ok(n) if n > 0) {}
}
