//! A small SMTP server on 127.0.0.1 (RFC 5321 over a real socket: EHLO, AUTH PLAIN/LOGIN,
//! MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) that keeps what it receives and
//! can refuse recipients or drop the connection in the middle of DATA.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine;

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
}

/// The running server.
pub struct Server {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Starts on a free port; `credentials` (user, password) makes AUTH required.
    pub fn start(credentials: Option<(&str, &str)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
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
}

fn session(stream: TcpStream, state: &Mutex<State>) {
    state.lock().unwrap().connections += 1;
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let say = |w: &mut TcpStream, text: &str| {
        let _ = w.write_all(text.as_bytes());
        let _ = w.flush();
    };
    say(&mut writer, "220 127.0.0.1 ESMTP test\r\n");
    let mut from = String::new();
    let mut rcpt: Vec<String> = Vec::new();
    let mut user: Option<String> = None;
    let needs_auth = state.lock().unwrap().credentials.is_some();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let auth = if needs_auth {
                "250-AUTH PLAIN LOGIN\r\n"
            } else {
                ""
            };
            say(
                &mut writer,
                &format!("250-127.0.0.1\r\n{auth}250-8BITMIME\r\n250 SIZE 52428800\r\n"),
            );
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = command
                .split_whitespace()
                .nth(2)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    say(&mut writer, "334 \r\n");
                    let mut l = String::new();
                    reader.read_line(&mut l).unwrap_or(0);
                    l.trim().to_string()
                });
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            let ok = {
                let s = state.lock().unwrap();
                s.credentials
                    .as_ref()
                    .is_some_and(|(u, p)| parts.len() == 3 && &parts[1] == u && &parts[2] == p)
            };
            if ok {
                user = parts.get(1).cloned();
                say(&mut writer, "235 2.7.0 Authentication successful\r\n");
            } else {
                state.lock().unwrap().auth_failures += 1;
                say(
                    &mut writer,
                    "535 5.7.8 Authentication credentials invalid\r\n",
                );
            }
        } else if upper.starts_with("AUTH LOGIN") {
            let read = |prompt: &str, w: &mut TcpStream, r: &mut BufReader<TcpStream>| {
                let _ = w.write_all(prompt.as_bytes());
                let mut l = String::new();
                r.read_line(&mut l).unwrap_or(0);
                String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(l.trim())
                        .unwrap_or_default(),
                )
                .into_owned()
            };
            let u = read("334 VXNlcm5hbWU6\r\n", &mut writer, &mut reader);
            let p = read("334 UGFzc3dvcmQ6\r\n", &mut writer, &mut reader);
            let ok = state
                .lock()
                .unwrap()
                .credentials
                .as_ref()
                .is_some_and(|(eu, ep)| *eu == u && *ep == p);
            if ok {
                user = Some(u);
                say(&mut writer, "235 2.7.0 Authentication successful\r\n");
            } else {
                state.lock().unwrap().auth_failures += 1;
                say(
                    &mut writer,
                    "535 5.7.8 Authentication credentials invalid\r\n",
                );
            }
        } else if upper.starts_with("MAIL FROM:") {
            if needs_auth && user.is_none() {
                say(&mut writer, "530 5.7.0 Authentication required\r\n");
                continue;
            }
            from = address_of(&command[10..]);
            rcpt.clear();
            say(&mut writer, "250 2.1.0 Ok\r\n");
        } else if upper.starts_with("RCPT TO:") {
            let address = address_of(&command[8..]);
            let refused = state.lock().unwrap().refuse.contains(&address);
            if refused {
                say(
                    &mut writer,
                    &format!("550 5.1.1 <{address}>: Recipient address rejected: User unknown\r\n"),
                );
            } else {
                rcpt.push(address);
                say(&mut writer, "250 2.1.5 Ok\r\n");
            }
        } else if upper == "DATA" {
            if rcpt.is_empty() {
                say(&mut writer, "554 5.5.1 No valid recipients\r\n");
                continue;
            }
            say(&mut writer, "354 End data with <CR><LF>.<CR><LF>\r\n");
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
                    let _ = writer.shutdown(std::net::Shutdown::Both);
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
                });
                s.received.len()
            };
            say(&mut writer, &format!("250 2.0.0 Ok: queued as Q{n:04}\r\n"));
            rcpt.clear();
        } else if upper == "RSET" {
            rcpt.clear();
            say(&mut writer, "250 2.0.0 Ok\r\n");
        } else if upper == "NOOP" {
            say(&mut writer, "250 2.0.0 Ok\r\n");
        } else if upper == "QUIT" {
            say(&mut writer, "221 2.0.0 Bye\r\n");
            return;
        } else {
            say(&mut writer, "502 5.5.2 Command not recognised\r\n");
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
