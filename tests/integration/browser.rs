//! A real headless Chromium for the tests, driven over WebDriver (fantoccini) through a
//! `chromedriver` this module starts on a free loopback port and stops when dropped. Debian's
//! `chromium` and `chromium-driver` packages provide both; where they are missing the tests
//! that need them print one loud line and pass, unless `FLOWSTEP_REQUIRE_CHROMIUM=1` (which
//! `.ci/run` sets), which makes their absence a failure.

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first of `names` found on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A running chromedriver and the headless Chromium session it drives.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// A headless Chromium, or `None` (after saying so loudly) when chromium or chromedriver
    /// is not installed and `FLOWSTEP_REQUIRE_CHROMIUM` is not `1`; `test` names the caller.
    pub async fn start(test: &str) -> Option<Browser> {
        let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"]);
        let driver = on_path(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let required = std::env::var("FLOWSTEP_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
            let line = format!(
                "BROWSER TESTS DID NOT RUN ({test}): chromium and chromedriver are not both on PATH; install them with `apt-get install -y chromium chromium-driver` (Debian) to run them"
            );
            assert!(!required, "{line} (FLOWSTEP_REQUIRE_CHROMIUM=1)");
            // Past the test harness's capture, so that it shows although the test passes.
            let _ = writeln!(std::io::stderr(), "\n!!!!! {line} !!!!!\n");
            return None;
        };
        Some(Browser::launch(&chromium, &driver).await)
    }

    async fn launch(chromium: &Path, driver: &Path) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", driver.display()));
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("chromedriver exited at once ({status}) on port {port}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen on {port} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // Root (as in CI containers) needs --no-sandbox; /dev/shm is small there.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("no Chromium session through chromedriver: {e}"));
        Browser {
            client,
            driver: child,
        }
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that panicked before `close`: chromedriver must not outlive it.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
