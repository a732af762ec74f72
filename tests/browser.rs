//! End-to-end test of the HTML report in real headless Chromium, driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs).
//!
//! Loads the portfolio page from `file://`, checks the browser console, follows the link to an
//! account page, and sorts and filters a table. Without chromedriver the test says so and
//! passes, except under CI (`CI` set), where a missing browser is a failure.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

struct Driver {
    child: Child,
    port: u16,
    http: Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// One request to chromedriver on 127.0.0.1 with an optional JSON body; the JSON reply,
    /// or why there is none.
    fn try_http(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        // The reply's status is not checked: WebDriver errors come as JSON with their own
        // `value.error`, which Session::call reports.
        request.send().and_then(|r| r.json()).map_err(|e| chain(&e))
    }

    fn http(&self, method: Method, path: &str, body: Option<&Value>) -> Value {
        let shown = format!("{method} {path}");
        self.try_http(method, path, body)
            .unwrap_or_else(|e| panic!("{shown}: {e}"))
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
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
    // No proxy from the environment: chromedriver is on this machine.
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let driver = Driver { child, port, http };
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(20) {
        match driver.try_http(Method::GET, "/status", None) {
            Ok(status) if status["value"]["ready"] == true => return Some(driver),
            Ok(status) => last = status.to_string(),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not start on port {port}: {last}");
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let shown = format!("{method} {path}");
        let reply = self.driver.http(
            method,
            &format!("/session/{}{path}", self.id),
            body.as_ref(),
        );
        assert!(reply["value"].get("error").is_none(), "{shown}: {reply}");
        reply["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call(Method::POST, "/url", Some(json!({ "url": url })));
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    fn click(&self, css: &str) {
        let element = self.call(
            Method::POST,
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        let id = element
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string();
        self.call(
            Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        );
    }

    /// A script that calls `arguments[arguments.length - 1]` with its result.
    fn script_async(&self, script: &str) -> Value {
        self.call(
            Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// axe-core's serious and critical violations on the page, one line each (rule, impact,
    /// help and the first elements), after injecting `axe` (the text of axe.min.js).
    fn axe_violations(&self, axe: &str) -> Vec<String> {
        self.script(axe);
        let result = self.script_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => ({
                 id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)
               }))))
               .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
        );
        result
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
            .map(|v| {
                format!(
                    "{} ({}): {} {}",
                    v["id"], v["impact"], v["help"], v["nodes"]
                )
            })
            .collect()
    }

    /// Browser console messages at SEVERE level since the last call.
    fn console_errors(&self) -> Vec<String> {
        let log = self.call(Method::POST, "/se/log", Some(json!({ "type": "browser" })));
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
        let _ = self
            .driver
            .try_http(Method::DELETE, &format!("/session/{}", self.id), None);
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
    let reply = driver.http(Method::POST, "/session", Some(&caps));
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
    common::report("samples", out.path(), &[], &[0]);
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

    // Sections below the first are laid out only when on screen (a long page opens without
    // laying out every table), and a link to one still lands on it, drawn.
    assert_eq!(
        session.script(
            "return getComputedStyle(document.querySelector('#evidence')).contentVisibility"
        ),
        "auto"
    );
    let account = session.script("return location.href.split('#')[0]");
    session.go(&format!("{}#h-evidence", account.as_str().unwrap()));
    let placed = session.script(
        "const r = document.querySelector('#h-evidence').getBoundingClientRect(); \
         return [Math.round(r.top), Math.round(r.height), innerHeight];",
    );
    let placed: Vec<i64> = serde_json::from_value(placed).unwrap();
    assert!(
        placed[0] >= 0 && placed[0] < placed[2] / 2 && placed[1] > 0,
        "the evidence heading is not on screen after following its link: {placed:?}"
    );
}

/// axe-core's script, from `tests/axe` (`npm ci --prefix tests/axe`, which `.ci/run` runs).
/// Without it the check says so and passes, except under CI.
fn axe_script() -> Option<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "axe-core is needed under CI: {}: {e} (npm ci --prefix tests/axe)",
                path.display()
            );
            eprintln!("SKIPPED: no axe-core ({e}); npm ci --prefix tests/axe");
            None
        }
    }
}

#[test]
fn every_kind_of_page_passes_axe_core_in_both_languages() {
    let Some(axe) = axe_script() else {
        return;
    };
    let Some(driver) = start_driver() else {
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let session = open_session(&driver, profile.path());
    let mut found = Vec::new();
    for lang in ["en", "zh"] {
        let out = tempfile::tempdir().unwrap();
        common::report(
            "samples",
            out.path(),
            // With frameworks, so that the "By framework" sections are checked too.
            &[
                "--lang",
                lang,
                "--format",
                "html",
                "--framework",
                "mlps2-l3,iso27001-2022",
            ],
            &[0],
        );
        let first = |folder: &str| {
            let mut pages: Vec<_> = std::fs::read_dir(out.path().join(folder))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "html"))
                .collect();
            pages.sort();
            pages[0].clone()
        };
        let pages = [
            out.path().join("index.html"),
            first("customers"),
            first("accounts"),
        ];
        for page in pages {
            session.go(&format!("file://{}", page.display()));
            for v in session.axe_violations(&axe) {
                found.push(format!(
                    "{lang} {}: {v}",
                    page.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "axe-core violations:\n{}",
        found.join("\n")
    );
    // The check itself can fail: an image without a text alternative is a critical violation.
    session.script("document.querySelector('main').append(document.createElement('img'))");
    let broken = session.axe_violations(&axe);
    assert!(
        broken
            .iter()
            .any(|v| v.starts_with("\"image-alt\" (\"critical\")")),
        "{broken:?}"
    );
}
