//! A PostgreSQL server of one test's own, which the test may stop and start again: for what
//! the gateway does while its database is down. It needs PostgreSQL's server programs
//! (`initdb`, `pg_ctl`), found as `scripts/pg.sh` finds them; as root they run as the
//! `postgres` user, since PostgreSQL refuses to run as root.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::Rng;

#[derive(Debug)]
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    /// The language of the server's messages (gettext's `LANGUAGE`), if not English.
    language: Option<String>,
    /// Whether it takes TLS connections only.
    tls: bool,
}

/// The folder of `initdb` and `pg_ctl`: on PATH, through `pg_config`, or the newest under
/// `/usr/lib/postgresql/*/bin`.
fn server_programs() -> PathBuf {
    let output = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    if let Some(initdb) = output("which", &["initdb"])
        && let Some(real) = std::fs::canonicalize(&initdb)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        return real;
    }
    if let Some(dir) = output("pg_config", &["--bindir"]).map(PathBuf::from)
        && dir.join("initdb").exists()
    {
        return dir;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().expect(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found: this test starts and \
         stops a PostgreSQL server of its own",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl PgCluster {
    /// A new cluster (trust authentication, no fsync), started on a free port.
    pub fn start() -> Self {
        Self::start_speaking(None)
    }

    /// A new cluster whose messages are in `language` (such as `de`), as a server with other
    /// `lc_messages` writes them.
    pub fn start_in_language(language: &str) -> Self {
        Self::start_speaking(Some(language))
    }

    /// A new cluster that takes TLS connections only, with `certificate` (and trusts them).
    pub fn start_with_tls(certificate: &crate::tls::ServerCertificate) -> Self {
        Self::start_as(None, Some(certificate))
    }

    fn start_speaking(language: Option<&str>) -> Self {
        Self::start_as(language, None)
    }

    fn start_as(
        language: Option<&str>,
        certificate: Option<&crate::tls::ServerCertificate>,
    ) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "calendly-gateway-cluster-{:016x}",
            rand::rng().random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        let cluster = Self {
            dir,
            bin: server_programs(),
            port: free_port(),
            as_postgres: is_root(),
            language: language.map(str::to_owned),
            tls: certificate.is_some(),
        };
        if cluster.as_postgres {
            cluster.must(
                Command::new("chown").arg("postgres").arg(&cluster.dir),
                "chown",
            );
        }
        let data = cluster.dir.join("data");
        cluster.must(
            cluster.program("initdb").arg("-D").arg(&data).args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]),
            "initdb",
        );
        if let Some(certificate) = certificate {
            let (cert, key) = certificate.write_to(&data);
            // Only TCP with TLS (and the socket) is let in.
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            )
            .expect("pg_hba.conf written");
            cluster.must(Command::new("chmod").arg("600").arg(&key), "chmod");
            if cluster.as_postgres {
                cluster.must(
                    Command::new("chown").arg("postgres").arg(&cert).arg(&key),
                    "chown",
                );
            }
        }
        cluster.resume();
        cluster
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast: open connections are closed).
    pub fn pause(&self) {
        self.pg_ctl(&["-m", "fast", "stop"]);
    }

    /// Starts the server again, on the same port.
    pub fn resume(&self) {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.display()
        );
        if self.tls {
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        if self.language.is_some() {
            // A locale that is not plain "C", so that gettext follows LANGUAGE.
            options.push_str(" -c lc_messages=C.UTF-8");
        }
        let log = self.dir.join("server.log");
        self.pg_ctl(&[
            "-l",
            &log.to_string_lossy(),
            "-w",
            "-t",
            "30",
            "-o",
            &options,
            "start",
        ]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        self.must(
            self.program("pg_ctl").arg("-D").arg(&data).args(args),
            "pg_ctl",
        );
    }

    /// `name` as the user the server runs as, with the language of its messages:
    /// `[runuser -u postgres --] env [LANGUAGE=…] PROGRAM`.
    fn program(&self, name: &str) -> Command {
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", "env"]);
            command
        } else {
            Command::new("env")
        };
        if let Some(language) = &self.language {
            command.arg(format!("LANGUAGE={language}"));
        }
        command.arg(self.bin.join(name));
        command
    }

    fn must(&self, command: &mut Command, what: &str) {
        let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            output.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self
            .program("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
