//! A Redis server of one test's own, which the test may stop and start again: for what the
//! gateway's instances share, and what they do while Redis is away. It needs `redis-server`
//! on PATH (Debian's `redis-server` package); it keeps nothing on disk and is killed when
//! dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct TestRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Whether it takes TLS connections only (its certificate and key in `dir`).
    tls: bool,
}

impl TestRedis {
    /// A new server on a free port, started and answering.
    pub fn start() -> Self {
        Self::start_as(None)
    }

    /// A new server taking TLS connections only, with `certificate` (clients need none).
    pub fn start_with_tls(certificate: &crate::tls::ServerCertificate) -> Self {
        Self::start_as(Some(certificate))
    }

    fn start_as(certificate: Option<&crate::tls::ServerCertificate>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("calendly-gateway-redis-{port}"));
        std::fs::create_dir_all(&dir).expect("a folder for Redis");
        if let Some(certificate) = certificate {
            certificate.write_to(&dir);
        }
        let mut redis = Self {
            port,
            dir,
            child: None,
            tls: certificate.is_some(),
        };
        redis.resume();
        redis
    }

    /// `redis://127.0.0.1:<port>/0` (`rediss://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    /// Freezes the server (SIGSTOP): it keeps its data and its connections, and answers
    /// nothing until [`Self::thaw`].
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success(), "kill {signal} failed");
        }
    }

    /// Stops the server (its data goes with it).
    pub fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on its port, empty, and waits until it answers.
    pub fn resume(&mut self) {
        let port = self.port.to_string();
        let mut command = Command::new("redis-server");
        if self.tls {
            command
                .args(["--port", "0", "--tls-port", &port])
                .arg("--tls-cert-file")
                .arg(self.dir.join("server.crt"))
                .arg("--tls-key-file")
                .arg(self.dir.join("server.key"))
                .args(["--tls-auth-clients", "no"]);
        } else {
            command.args(["--port", &port]);
        }
        let child = command
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts (Debian: apt-get install redis-server)");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.pause();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
