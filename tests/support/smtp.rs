//! A small SMTP server on 127.0.0.1 (RFC 5321 over a real socket: EHLO, STARTTLS (rustls,
//! with the certificate of `tests/fixtures/tls`), AUTH PLAIN/LOGIN, MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT) that keeps what it receives and can refuse recipients,
//! drop the connection in the middle of DATA, or quote the AUTH exchange back in a reply (as a
//! server that logs too much into its answers does).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;

use base64::Engine;

/// Where the server quotes the AUTH exchange back: what it received, the user and password it
/// decoded, and the password again in base64 (AUTH PLAIN with and without an authorization
/// identity, alone, inside longer strings at each alignment, URL-safe, across reply lines),
/// with an escape sequence and a bidirectional override after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// In the 535 that refuses the AUTH.
    Refusal,
    /// The AUTH is accepted; the 554 refusing MAIL FROM quotes it, over two reply lines.
    Later,
    /// Everything is accepted; the 250 that takes the message quotes it.
    Accepted,
}

/// A message as the server took it.
#[derive(Clone, Debug)]
pub struct Received {
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO, in order.
    pub rcpt: Vec<String>,
    /// The DATA, unstuffed.
    pub data: Vec<u8>,
    /// The user who authenticated, if any.
    pub user: Option<String>,
    /// Whether the message came over TLS (after STARTTLS).
    pub tls: bool,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    refuse: Vec<String>,
    /// Drop the connection after this many DATA bytes, once, for a message to this address.
    drop_for: Option<(String, usize)>,
    credentials: Option<(String, String)>,
    auth_failures: usize,
    connections: usize,
    /// Offer STARTTLS with this configuration.
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Speak TLS from the first byte (port 465 style) instead.
    implicit: bool,
    /// AUTH commands seen (over any connection).
    auth_attempts: usize,
    /// Quote the AUTH exchange back.
    echo: Option<Echo>,
    /// Offer AUTH LOGIN only (not PLAIN).
    login_only: bool,
    /// Replies that quoted the AUTH exchange.
    echoed: usize,
}

/// The running server.
pub struct Server {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Starts on a free port; `credentials` (user, password) makes AUTH required.
    pub fn start(credentials: Option<(&str, &str)>) -> Server {
        Server::start_with(credentials, false)
    }

    /// Starts on a free port speaking TLS from the first byte (port 465 style).
    pub fn start_implicit_tls(credentials: Option<(&str, &str)>) -> Server {
        let server = Server::start_with(credentials, true);
        server.state.lock().unwrap().implicit = true;
        server
    }

    /// Starts on a free port, offering STARTTLS when `tls` (with the test certificate of
    /// 127.0.0.1, signed by `tests/fixtures/tls/ca.pem`).
    pub fn start_with(credentials: Option<(&str, &str)>, tls: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
            tls: tls.then(server_config),
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || session(stream, &state));
            }
        });
        Server { port, state }
    }

    /// RCPT TO this address is answered 550.
    pub fn refuse(&self, address: &str) {
        self.state.lock().unwrap().refuse.push(address.to_string());
    }

    /// Accept every recipient again.
    pub fn accept_all(&self) {
        self.state.lock().unwrap().refuse.clear();
    }

    /// The next message to `address` loses its connection after `bytes` of DATA.
    pub fn drop_once(&self, address: &str, bytes: usize) {
        self.state.lock().unwrap().drop_for = Some((address.to_string(), bytes));
    }

    /// Quote the AUTH exchange back in a reply, from now on.
    pub fn echo_auth(&self, when: Echo) {
        self.state.lock().unwrap().echo = Some(when);
    }

    /// Offer AUTH LOGIN only, so that clients send the user and the password apart.
    pub fn offer_only_login(&self) {
        self.state.lock().unwrap().login_only = true;
    }

    /// Replies that quoted the AUTH exchange.
    pub fn echoed(&self) -> usize {
        self.state.lock().unwrap().echoed
    }

    /// Messages received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Failed AUTH attempts.
    pub fn auth_failures(&self) -> usize {
        self.state.lock().unwrap().auth_failures
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// AUTH commands received.
    pub fn auth_attempts(&self) -> usize {
        self.state.lock().unwrap().auth_attempts
    }
}

fn server_config() -> Arc<rustls::ServerConfig> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    Arc::new(config)
}

/// The connection, plain or (after STARTTLS) TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

impl Conn {
    fn shutdown(&self) {
        let tcp = match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => &s.sock,
        };
        let _ = tcp.shutdown(std::net::Shutdown::Both);
    }
}

fn say(reader: &mut BufReader<Conn>, text: &str) {
    let w = reader.get_mut();
    let _ = w.write_all(text.as_bytes());
    let _ = w.flush();
}

/// The next line from the client, or `None` when it has gone.
fn line(reader: &mut BufReader<Conn>) -> Option<String> {
    let mut l = String::new();
    (reader.read_line(&mut l).unwrap_or(0) > 0).then_some(l)
}

fn base64_text(text: &str) -> String {
    String::from_utf8_lossy(
        &base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .unwrap_or_default(),
    )
    .into_owned()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The AUTH exchange quoted back: the lines received, what they decoded to, and the password
/// re-encoded every way a server might. `split` puts a reply-line break in the middle of the
/// AUTH PLAIN base64 (the caller starts the next line there).
fn quote(sent: &[String], user: &str, password: &str, split: Option<&str>) -> String {
    let plain = b64(format!("\0{user}\0{password}").as_bytes());
    let (head, tail) = plain.split_at(plain.len() / 2);
    format!(
        "you sent {} = user {user} password {password}; as PLAIN {plain} or {}; alone {}; \
         inside {} {} {}; url {}; wrapped {head}{}{tail} \x1b[2J\u{202e}exe.txt",
        sent.join(" "),
        b64(format!("admin\0{user}\0{password}").as_bytes()),
        b64(password.as_bytes()),
        b64(format!("x{password}!").as_bytes()),
        b64(format!("xy{password}!!").as_bytes()),
        b64(format!("xyz{password}").as_bytes()),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("?>\0{user}\0{password}").as_bytes()),
        split.unwrap_or(" "),
    )
}

fn session(stream: TcpStream, state: &Mutex<State>) {
    let (tls_config, implicit) = {
        let mut s = state.lock().unwrap();
        s.connections += 1;
        (s.tls.clone(), s.implicit)
    };
    let (conn, mut tls) = match (&tls_config, implicit) {
        (Some(config), true) => {
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            (
                Conn::Tls(Box::new(rustls::StreamOwned::new(connection, stream))),
                true,
            )
        }
        _ => (Conn::Plain(stream), false),
    };
    let mut reader = BufReader::new(conn);
    say(&mut reader, "220 127.0.0.1 ESMTP test\r\n");
    let mut from = String::new();
    let mut rcpt: Vec<String> = Vec::new();
    let mut user: Option<String> = None;
    let (needs_auth, echo, login_only) = {
        let s = state.lock().unwrap();
        (s.credentials.is_some(), s.echo, s.login_only)
    };
    // The AUTH exchange of this connection: the lines received, and what they decoded to.
    let mut sent: Vec<String> = Vec::new();
    let mut decoded_auth = (String::new(), String::new());
    let echoed = || state.lock().unwrap().echoed += 1;
    let check = |u: &str, p: &str| {
        let mut s = state.lock().unwrap();
        s.auth_attempts += 1;
        let ok = s
            .credentials
            .as_ref()
            .is_some_and(|(eu, ep)| eu == u && ep == p);
        if !ok {
            s.auth_failures += 1;
        }
        ok
    };
    loop {
        let Some(command) = line(&mut reader) else {
            return;
        };
        let command = command.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let starttls = if tls_config.is_some() && !tls {
                "250-STARTTLS\r\n"
            } else {
                ""
            };
            let auth = match (needs_auth, login_only) {
                (false, _) => "",
                (true, false) => "250-AUTH PLAIN LOGIN\r\n",
                (true, true) => "250-AUTH LOGIN\r\n",
            };
            say(
                &mut reader,
                &format!("250-127.0.0.1\r\n{starttls}{auth}250-8BITMIME\r\n250 SIZE 52428800\r\n"),
            );
        } else if upper == "STARTTLS" {
            let Some(config) = tls_config.clone().filter(|_| !tls) else {
                say(&mut reader, "502 5.5.1 STARTTLS not available\r\n");
                continue;
            };
            say(&mut reader, "220 2.0.0 Ready to start TLS\r\n");
            let Conn::Plain(tcp) = reader.into_inner() else {
                return;
            };
            let connection = rustls::ServerConnection::new(config).unwrap();
            reader = BufReader::new(Conn::Tls(Box::new(rustls::StreamOwned::new(
                connection, tcp,
            ))));
            // RFC 3207: everything known before TLS is forgotten.
            tls = true;
            from.clear();
            rcpt.clear();
            user = None;
        } else if upper.starts_with("AUTH PLAIN") && login_only {
            say(
                &mut reader,
                "504 5.5.4 Unrecognized authentication type\r\n",
            );
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = match command.split_whitespace().nth(2) {
                Some(e) => e.to_string(),
                None => {
                    say(&mut reader, "334 \r\n");
                    line(&mut reader).unwrap_or_default()
                }
            };
            let decoded = base64_text(&encoded);
            let parts: Vec<&str> = decoded.split('\0').collect();
            sent = vec![encoded.trim().to_string()];
            decoded_auth = (
                parts.get(1).unwrap_or(&"").to_string(),
                parts.get(2).unwrap_or(&"").to_string(),
            );
            if echo == Some(Echo::Refusal) {
                check(&decoded_auth.0, &decoded_auth.1);
                echoed();
                let q = quote(&sent, &decoded_auth.0, &decoded_auth.1, None);
                say(
                    &mut reader,
                    &format!("535 5.7.8 Authentication credentials invalid: {q}\r\n"),
                );
            } else if parts.len() == 3 && check(parts[1], parts[2]) {
                user = Some(parts[1].to_string());
                say(&mut reader, "235 2.7.0 Authentication successful\r\n");
            } else {
                say(
                    &mut reader,
                    "535 5.7.8 Authentication credentials invalid\r\n",
                );
            }
        } else if upper.starts_with("AUTH LOGIN") {
            say(&mut reader, "334 VXNlcm5hbWU6\r\n");
            let u_line = line(&mut reader).unwrap_or_default();
            let u = base64_text(&u_line);
            say(&mut reader, "334 UGFzc3dvcmQ6\r\n");
            let p_line = line(&mut reader).unwrap_or_default();
            let p = base64_text(&p_line);
            sent = vec![u_line.trim().to_string(), p_line.trim().to_string()];
            decoded_auth = (u.clone(), p.clone());
            if echo == Some(Echo::Refusal) {
                check(&u, &p);
                echoed();
                let q = quote(&sent, &u, &p, None);
                say(
                    &mut reader,
                    &format!("535 5.7.8 Authentication credentials invalid: {q}\r\n"),
                );
            } else if check(&u, &p) {
                user = Some(u);
                say(&mut reader, "235 2.7.0 Authentication successful\r\n");
            } else {
                say(
                    &mut reader,
                    "535 5.7.8 Authentication credentials invalid\r\n",
                );
            }
        } else if upper.starts_with("MAIL FROM:") {
            if needs_auth && user.is_none() {
                say(&mut reader, "530 5.7.0 Authentication required\r\n");
                continue;
            }
            if echo == Some(Echo::Later) {
                echoed();
                let q = quote(
                    &sent,
                    &decoded_auth.0,
                    &decoded_auth.1,
                    Some("\r\n554 5.7.1 "),
                );
                say(&mut reader, &format!("554-5.7.1 Sender rejected: {q}\r\n"));
                continue;
            }
            from = address_of(&command[10..]);
            rcpt.clear();
            say(&mut reader, "250 2.1.0 Ok\r\n");
        } else if upper.starts_with("RCPT TO:") {
            let address = address_of(&command[8..]);
            let refused = state.lock().unwrap().refuse.contains(&address);
            if refused {
                say(
                    &mut reader,
                    &format!("550 5.1.1 <{address}>: Recipient address rejected: User unknown\r\n"),
                );
            } else {
                rcpt.push(address);
                say(&mut reader, "250 2.1.5 Ok\r\n");
            }
        } else if upper == "DATA" {
            if rcpt.is_empty() {
                say(&mut reader, "554 5.5.1 No valid recipients\r\n");
                continue;
            }
            say(&mut reader, "354 End data with <CR><LF>.<CR><LF>\r\n");
            let drop_after = {
                let mut s = state.lock().unwrap();
                match &s.drop_for {
                    Some((a, n)) if rcpt.contains(a) => {
                        let n = *n;
                        s.drop_for = None;
                        Some(n)
                    }
                    _ => None,
                }
            };
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                if reader.read_until(b'\n', &mut raw).unwrap_or(0) == 0 {
                    return;
                }
                if raw == b".\r\n" {
                    break;
                }
                let body = if raw.starts_with(b"..") {
                    &raw[1..]
                } else {
                    &raw[..]
                };
                data.extend_from_slice(body);
                if drop_after.is_some_and(|n| data.len() >= n) {
                    // Gone in the middle of the message.
                    reader.get_ref().shutdown();
                    return;
                }
            }
            let n = {
                let mut s = state.lock().unwrap();
                s.received.push(Received {
                    from: from.clone(),
                    rcpt: rcpt.clone(),
                    data,
                    user: user.clone(),
                    tls,
                });
                s.received.len()
            };
            if echo == Some(Echo::Accepted) {
                echoed();
                let q = quote(&sent, &decoded_auth.0, &decoded_auth.1, None);
                say(
                    &mut reader,
                    &format!("250 2.0.0 Ok: queued as Q{n:04}: {q}\r\n"),
                );
            } else {
                say(&mut reader, &format!("250 2.0.0 Ok: queued as Q{n:04}\r\n"));
            }
            rcpt.clear();
        } else if upper == "RSET" {
            rcpt.clear();
            say(&mut reader, "250 2.0.0 Ok\r\n");
        } else if upper == "NOOP" {
            say(&mut reader, "250 2.0.0 Ok\r\n");
        } else if upper == "QUIT" {
            say(&mut reader, "221 2.0.0 Bye\r\n");
            return;
        } else {
            say(&mut reader, "502 5.5.2 Command not recognised\r\n");
        }
    }
}

/// `<a@b>` (with optional parameters after it) to `a@b`.
fn address_of(text: &str) -> String {
    let t = text.trim();
    match (t.find('<'), t.find('>')) {
        (Some(a), Some(b)) if b > a => t[a + 1..b].to_string(),
        _ => t.split_whitespace().next().unwrap_or_default().to_string(),
    }
}
