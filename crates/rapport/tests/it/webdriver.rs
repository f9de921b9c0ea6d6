//! A headless Chromium driven through chromedriver's W3C WebDriver protocol: just the
//! commands the browser tests use (navigate, find, click, type, pointer drag, screenshots,
//! the console log). WebDriver is JSON over HTTP, so this is a thin layer over the HTTP
//! client the tests already use rather than a second HTTP stack.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value as Json, json};

/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn chromedriver() -> PathBuf {
    std::env::var_os("RAPPORT_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

fn chromium() -> PathBuf {
    std::env::var_os("RAPPORT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Where screenshots go: `target/screenshots/`.
fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// One browser session; chromedriver (and so Chromium) stops when it is dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        assert!(
            chromedriver().exists() && chromium().exists(),
            "the browser tests need Debian's chromium and chromium-driver \
             (apt-get install -y chromium chromium-driver; .ci/run installs them)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(response) = http.get(format!("{base}/status")).send().await
                && let Ok(status) = response.json::<Json>().await
                && status["value"]["ready"] == json!(true)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,1000", "--lang=en-US",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"implicit": 5000, "pageLoad": 30000},
        }}});
        let response: Json = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {response}"))
            .to_string();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        }
    }

    async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Json>,
    ) -> Result<Json, Json> {
        let url = format!("{}{path}", self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Json = request.send().await.unwrap().json().await.unwrap();
        match response["value"].get("error") {
            Some(_) => Err(response["value"].clone()),
            None => Ok(response["value"].clone()),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Json>) -> Json {
        match self.try_send(method, path, body).await {
            Ok(value) => value,
            Err(error) => panic!("WebDriver {path}: {error}"),
        }
    }

    /// Runs `command` on the element `css` finds, again while the page is being replaced
    /// under it (a click that submits a form returns before the next page has come) or
    /// while it is not yet ready for input (a loaded machine lays the page out late).
    async fn on_element(
        &self,
        css: &str,
        method: reqwest::Method,
        command: &str,
        body: Option<Json>,
    ) -> Json {
        let started = Instant::now();
        loop {
            let element = self.find(css).await;
            match self
                .try_send(
                    method.clone(),
                    &format!("/element/{element}{command}"),
                    body.clone(),
                )
                .await
            {
                Ok(value) => return value,
                Err(error) if retried(&error) && started.elapsed() < Duration::from_secs(10) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("WebDriver {command} on {css}: {error}"),
            }
        }
    }

    async fn post(&self, path: &str, body: Json) -> Json {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Json {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap().to_string()
    }

    /// The first element matching a CSS selector (waiting up to the implicit timeout).
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT].as_str().unwrap().to_string()
    }

    /// How many elements match a CSS selector now.
    pub async fn count(&self, css: &str) -> usize {
        let found = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        found.as_array().map_or(0, Vec::len)
    }

    pub async fn click(&self, css: &str) {
        self.on_element(css, reqwest::Method::POST, "/click", Some(json!({})))
            .await;
    }

    /// Types into a field after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        self.on_element(css, reqwest::Method::POST, "/clear", Some(json!({})))
            .await;
        self.on_element(
            css,
            reqwest::Method::POST,
            "/value",
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Chooses an option of a `<select>` by its value.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    /// Presses keys on whatever has the focus.
    pub async fn keys(&self, text: &str) {
        let actions: Vec<Json> = text
            .chars()
            .flat_map(|c| {
                [
                    json!({"type": "keyDown", "value": c.to_string()}),
                    json!({"type": "keyUp", "value": c.to_string()}),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
        self.send(reqwest::Method::DELETE, "/actions", None).await;
    }

    pub async fn text(&self, css: &str) -> String {
        self.on_element(css, reqwest::Method::GET, "/text", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The page's visible text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Runs a script in the page and returns its result.
    pub async fn script(&self, script: &str) -> Json {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// Drags with a real pointer: press on `from`, move in steps to `to`, release.
    pub async fn drag(&self, from: &str, to: &str) {
        let from = self.find(from).await;
        let to = self.find(to).await;
        let origin = |id: &str| json!({ELEMENT: id});
        self.post(
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
                {"type": "pointerMove", "duration": 0, "origin": origin(&from), "x": 0, "y": 0},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerMove", "duration": 200, "origin": origin(&from), "x": 40, "y": 10},
                {"type": "pointerMove", "duration": 300, "origin": origin(&to), "x": 0, "y": 0},
                {"type": "pointerUp", "button": 0},
            ]}]}),
        )
        .await;
        self.send(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// Sets the window's size (a phone's, say).
    pub async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    /// Saves a PNG of the viewport as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let data = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(screenshots()).unwrap();
        std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
    }

    /// Text on the page whose contrast with what is behind it falls short of WCAG AA
    /// (4.5:1, or 3:1 for large text), as the browser renders it: the text's colour (an
    /// SVG text's fill) over its ancestors' background colours composited in order.
    /// Visually hidden text (clipped to a pixel, or moved off screen) is skipped.
    pub async fn contrast_failures(&self) -> Vec<String> {
        let found = self.script(CONTRAST_CHECK).await;
        found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("the contrast check failed: {found}")])
    }

    /// The browser console's errors since the last call: every script error, and every
    /// asset that failed to load. (A page answered with 400 for a refused form, or 404 for a
    /// record one may not see, is the server's correct answer, which Chromium also logs.)
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self.post("/se/log", json!({"type": "browser"})).await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == json!("SEVERE"))
            .filter(|e| {
                e["source"] != json!("network")
                    || e["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("/static/"))
            })
            .map(|e| e.to_string())
            .collect()
    }

    /// Waits until the element `css` finds shows `needle` (the page after a form that
    /// returns to the same address is told apart only by what it shows).
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{css} still shows {text:?}, waiting for {needle:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the URL contains `part`.
    pub async fn wait_for_url(&self, part: &str) -> String {
        let started = Instant::now();
        loop {
            let url = self.url().await;
            if url.contains(part) {
                return url;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "still at {url}, waiting for {part}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session (Chromium exits), then chromedriver.
    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.session).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// WCAG 2.1 contrast of every visible text node's element, as the browser computes styles.
const CONTRAST_CHECK: &str = r#"
const parse = (text) => {
  const m = /rgba?\(([^)]+)\)/.exec(text || '');
  if (!m) return null;
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(parseFloat);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const over = (top, bottom) => ({
  r: top.r * top.a + bottom.r * (1 - top.a),
  g: top.g * top.a + bottom.g * (1 - top.a),
  b: top.b * top.a + bottom.b * (1 - top.a),
  a: 1,
});
const luminance = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const backdrop = (element) => {
  const chain = [];
  for (let e = element; e; e = e.parentElement) chain.push(e);
  let colour = { r: 255, g: 255, b: 255, a: 1 };
  for (const e of chain.reverse()) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0) colour = over(c, colour);
  }
  return colour;
};
const failures = [];
const seen = new Set();
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const text = walker.currentNode.textContent.trim();
  const element = walker.currentNode.parentElement;
  if (!text || !element || seen.has(element)) continue;
  seen.add(element);
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  if (style.visibility === 'hidden' || box.width < 2 || box.height < 2 || box.right < 0 || box.bottom < 0) continue;
  if (element.closest('[disabled]')) continue;
  const background = backdrop(element);
  const ink = parse(element instanceof SVGElement ? style.fill : style.color);
  if (!ink) continue;
  const [a, b] = [luminance(over(ink, background)), luminance(background)];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66);
  const needed = large ? 3 : 4.5;
  if (ratio < needed) {
    failures.push(`${element.tagName.toLowerCase()}${element.className && typeof element.className === 'string' ? '.' + element.className.trim().replace(/\s+/g, '.') : ''} "${text.slice(0, 40)}": ${ratio.toFixed(2)}:1, needs ${needed}:1`);
  }
}
return failures;
"#;

/// A WebDriver error worth a retry: the page was still changing under the element.
fn retried(error: &Json) -> bool {
    [
        "stale element reference",
        "element not interactable",
        "element click intercepted",
    ]
    .iter()
    .any(|retried| error["error"] == json!(retried))
        // Chromium's word for an element whose page was replaced while it was read (a
        // navigation under way): stale too.
        || error["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not belong to the document"))
}
