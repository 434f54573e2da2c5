//! `docker-compose.yml`, `.env.example` and the `Dockerfile`, checked without a Docker engine:
//! every variable they give the gateway must be a configuration key it reads, with a value it
//! accepts.

use std::collections::{BTreeMap, HashMap};

use app_http::Settings;
use serde_yaml_ng::Value;

use crate::helpers::workspace_dir;

fn read(name: &str) -> String {
    std::fs::read_to_string(workspace_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `KEY=value` lines of `.env.example`; commented-out lines (`# KEY=value`) too, marked.
fn env_example() -> Vec<(String, String, bool)> {
    read(".env.example")
        .lines()
        .filter_map(|line| {
            let (commented, line) = match line.trim().strip_prefix('#') {
                Some(rest) => (true, rest.trim()),
                None => (false, line.trim()),
            };
            let (key, value) = line.split_once('=')?;
            let key = key.trim();
            let is_name = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            is_name.then(|| (key.to_owned(), value.trim().to_owned(), commented))
        })
        .collect()
}

fn compose() -> Value {
    serde_yaml_ng::from_str(&read("docker-compose.yml")).expect("docker-compose.yml is YAML")
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    &compose["services"][name]
}

/// A service's `environment`, as a map or a `KEY=value` list.
fn environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Mapping(map) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => panic!("unexpected value {other:?}"),
                };
                (k.as_str().expect("a name").to_owned(), value)
            })
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .map(|item| {
                let (k, v) = item
                    .as_str()
                    .and_then(|s| s.split_once('='))
                    .expect("KEY=value");
                (k.to_owned(), v.to_owned())
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// A value that a filled-in `.env` could hold, for a secret the template leaves empty.
fn sample_secret(name: &str) -> String {
    if name.contains("ENCRYPTION_KEY") {
        "c2FtcGxlLWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE=".to_owned()
    } else {
        format!("sample-{}-0123456789abcdef", name.to_lowercase())
    }
}

/// Compose's interpolation of `${NAME}`, `${NAME:-default}` and `${NAME:?error}` from `.env`.
fn interpolate(value: &str, dotenv: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closed ${") + start;
        let expression = &rest[start + 2..end];
        let (name, default) = match expression.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (expression.split(":?").next().unwrap_or(expression), None),
        };
        let resolved = match dotenv.get(name) {
            Some(value) if !value.is_empty() => value.clone(),
            _ => default.map_or_else(|| sample_secret(name), str::to_owned),
        };
        out.push_str(&resolved);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn load(app_env: &str, vars: HashMap<String, String>) -> Result<Settings, String> {
    Settings::load_from(&workspace_dir().join("config"), app_env, vars).map_err(|e| e.to_string())
}

#[test]
fn the_gateway_is_configured_only_by_keys_it_reads() {
    let dotenv: HashMap<String, String> = env_example()
        .into_iter()
        .filter(|(_, _, commented)| !commented)
        .map(|(k, v, _)| (k, v))
        .collect();
    let compose = compose();
    let gateway_env = environment(service(&compose, "gateway"));
    assert!(
        !gateway_env.is_empty(),
        "the gateway service sets its configuration"
    );

    let mut vars = HashMap::new();
    for (name, value) in &gateway_env {
        assert!(
            name == "APP_ENV" || name.starts_with("APP__"),
            "{name}: the gateway is configured only through APP_ENV and APP__… variables"
        );
        vars.insert(name.clone(), interpolate(value, &dotenv));
    }
    let app_env = vars.remove("APP_ENV").unwrap_or_else(|| "local".to_owned());
    assert_eq!(app_env, "production");

    // All of them together: what the container would start with.
    let settings = load(&app_env, vars.clone()).expect("the compose configuration loads");
    assert!(
        secrecy::ExposeSecret::expose_secret(&settings.database.url).starts_with("postgres://"),
        "compose runs the gateway on PostgreSQL"
    );
    assert_eq!(settings.server.host, "0.0.0.0");
    assert!(
        settings.cache.redis_url.is_some(),
        "compose shares the cache"
    );

    // Each one alone, so that a misspelt key is named by the failure.
    for (name, value) in &vars {
        let mut alone = secrets_only(&vars);
        alone.insert(name.clone(), value.clone());
        load(&app_env, alone).unwrap_or_else(|e| panic!("{name} from docker-compose.yml: {e}"));
    }
}

/// The production secrets of `vars`, which every production load needs.
fn secrets_only(vars: &HashMap<String, String>) -> HashMap<String, String> {
    vars.iter()
        .filter(|(k, _)| {
            k.as_str() == "APP__AUTH__JWT_SECRET"
                || k.as_str() == "APP__CALENDLY__TOKEN_ENCRYPTION_KEY"
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn every_gateway_variable_of_the_env_template_is_a_key_it_reads() {
    let entries = env_example();
    let app_entries: Vec<_> = entries
        .iter()
        .filter(|(k, _, _)| k.starts_with("APP__"))
        .collect();
    assert!(!app_entries.is_empty());
    for (name, value, _) in app_entries {
        let value = if value.is_empty() {
            sample_secret(name)
        } else {
            value.clone()
        };
        let vars = HashMap::from([(name.clone(), value)]);
        load("local", vars).unwrap_or_else(|e| panic!("{name} in .env.example: {e}"));
    }
}

#[test]
fn every_required_compose_variable_is_in_the_env_template() {
    let text = read("docker-compose.yml");
    let template: Vec<String> = env_example().into_iter().map(|(k, _, _)| k).collect();
    for expression in text.split("${").skip(1) {
        let expression = &expression[..expression.find('}').expect("closed ${")];
        if expression.contains(":-") {
            continue;
        }
        let name = expression.split(":?").next().unwrap_or(expression);
        assert!(
            template.iter().any(|k| k == name),
            "{name} is required by docker-compose.yml but missing from .env.example"
        );
    }
}

#[test]
fn a_misspelt_key_would_be_caught() {
    // The check above is only as good as the gateway's refusal of keys it does not read.
    let vars = HashMap::from([("APP__DATABASE__ULR".to_owned(), "postgres://x".to_owned())]);
    assert!(load("local", vars).is_err());
}

#[test]
fn the_gateway_waits_for_a_healthy_database_with_a_volume() {
    let compose = compose();
    let postgres = service(&compose, "postgres");
    assert!(
        postgres["healthcheck"]["test"].is_sequence(),
        "postgres has a health check"
    );
    let volume = postgres["volumes"][0]
        .as_str()
        .expect("postgres keeps its data in a volume");
    let volume_name = volume.split(':').next().expect("name");
    assert!(
        compose["volumes"].get(volume_name).is_some(),
        "{volume_name} is a named volume"
    );
    assert_eq!(
        service(&compose, "gateway")["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert!(
        service(&compose, "gateway")["build"].as_str().is_some(),
        "the gateway is built from the Dockerfile"
    );
}

#[test]
fn the_gateway_shares_its_cache_through_the_composed_redis() {
    let compose = compose();
    let redis = service(&compose, "redis");
    assert!(
        redis["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("redis:")),
        "{redis:?}"
    );
    let gateway = service(&compose, "gateway");
    assert_eq!(
        environment(gateway)
            .get("APP__CACHE__REDIS_URL")
            .map(String::as_str),
        Some("redis://redis:6379/0")
    );
    // Without Redis the gateway still answers: it waits for it to start, not to be healthy.
    assert_eq!(
        gateway["depends_on"]["redis"]["condition"].as_str(),
        Some("service_started")
    );
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_the_gateway_from_another() {
    let dockerfile = read("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.trim_start().starts_with("FROM "))
        .count();
    assert!(stages >= 2, "multi-stage");
    assert!(
        dockerfile.contains("cargo build --release --locked -p app-http --bin calendly-gateway")
    );
    assert!(
        dockerfile.contains("COPY config config"),
        "the configuration files are in the image"
    );
    assert!(
        dockerfile.contains("COPY web/dist web/dist"),
        "the web client the binary compiles in is in the build"
    );
    assert!(dockerfile.contains("ENV APP_ENV=production"));
    assert!(dockerfile.contains("USER gateway"), "not root");
    // Every path the build copies exists.
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        for source in &parts[1..parts.len() - 1] {
            assert!(
                workspace_dir().join(source).exists(),
                "{source} in the Dockerfile"
            );
        }
    }
}
