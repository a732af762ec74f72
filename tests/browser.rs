//! End-to-end test of the HTML report in real headless Chromium, driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs).
//!
//! Loads the portfolio page from `file://`, checks the browser console, follows the link to an
//! account page, and sorts and filters a table. Without chromedriver the test says so and
//! passes, except under CI (`CI` set), where a missing browser is a failure.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to chromedriver on 127.0.0.1; returns the JSON body.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    // Read the head, then exactly Content-Length bytes: the server may keep the connection.
    let mut response = Vec::new();
    let mut byte = [0u8; 1];
    while !response.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).unwrap();
        assert!(n == 1, "{method} {path}: connection closed in the headers");
        response.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&response).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&body)))
}

fn start_driver() -> Option<Driver> {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromedriver is needed under CI: {e} (apt-get install chromium chromium-driver)"
            );
            eprintln!("SKIPPED: no chromedriver ({e}); apt-get install chromium chromium-driver");
            return None;
        }
    };
    let driver = Driver { child, port };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let status = http(port, "GET", "/status", None);
            if status["value"]["ready"] == true {
                return Some(driver);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not start on port {port}");
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = http(
            self.driver.port,
            method,
            &format!("/session/{}{path}", self.id),
            body.as_ref(),
        );
        assert!(
            reply["value"].get("error").is_none(),
            "{method} {path}: {reply}"
        );
        reply["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    fn click(&self, css: &str) {
        let element = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        let id = element
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string();
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Browser console messages at SEVERE level since the last call.
    fn console_errors(&self) -> Vec<String> {
        let log = self.call("POST", "/se/log", Some(json!({ "type": "browser" })));
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].to_string())
            .collect()
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = http(
            self.driver.port,
            "DELETE",
            &format!("/session/{}", self.id),
            None,
        );
    }
}

fn open_session<'a>(driver: &'a Driver, profile: &Path) -> Session<'a> {
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }}});
    let reply = http(driver.port, "POST", "/session", Some(&caps));
    let id = reply["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {reply}"))
        .to_string();
    Session { driver, id }
}

fn scores(session: &Session) -> Vec<f64> {
    session
        .script("return Array.from(document.querySelectorAll('#accounts tbody tr')).filter(r => !r.hidden).map(r => r.cells[3].textContent.trim())")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse::<f64>().unwrap())
        .collect()
}

#[test]
fn portfolio_and_account_pages_work_in_chromium() {
    let Some(driver) = start_driver() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .args([
            "report",
            "samples",
            "-o",
            out.path().to_str().unwrap(),
            "--quiet",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success());
    let profile = tempfile::tempdir().unwrap();
    let session = open_session(&driver, profile.path());
    let index = format!("file://{}/index.html", out.path().display());

    session.go(&index);
    assert_eq!(
        session.script("return document.title"),
        "Portfolio compliance report - aliaudit"
    );
    assert_eq!(session.console_errors(), Vec::<String>::new());

    // Sorting: the table starts lowest score first; the Score heading sorts both ways.
    let initial = scores(&session);
    assert_eq!(initial.len(), 6);
    session.click("#accounts thead th:nth-child(4)");
    let ascending = scores(&session);
    let mut sorted = initial.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(ascending, sorted);
    session.click("#accounts thead th:nth-child(4)");
    let descending = scores(&session);
    sorted.reverse();
    assert_eq!(descending, sorted);
    assert_eq!(
        session.script("return document.querySelector('#accounts thead th:nth-child(4)').getAttribute('aria-sort')"),
        "descending"
    );

    // Filtering hides the rows that do not match.
    session.script("const i = document.querySelector('.filter input'); i.value = 'Acme'; i.dispatchEvent(new Event('input'));");
    assert_eq!(scores(&session).len(), 2);

    // Follow the first account link to its page.
    session.click("#accounts tbody tr:not([hidden]) th a");
    let url = session.script("return location.href");
    assert!(
        url.as_str().unwrap().contains("/accounts/"),
        "not on an account page: {url}"
    );
    let heading = session.script("return document.querySelector('h1').textContent");
    assert!(
        heading.as_str().unwrap().starts_with("Acme Retail"),
        "{heading}"
    );
    assert_eq!(
        session.script("return document.querySelectorAll('#t-cis tbody tr').length"),
        17
    );
    assert_eq!(session.console_errors(), Vec::<String>::new());
}
