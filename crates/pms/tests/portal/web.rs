//! A tiny form-posting HTTP client with a cookie jar, for the portal tests that need no browser.
#![allow(dead_code)]

use crate::helpers::TestApp;
use std::collections::BTreeMap;

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The first `csrf` hidden field of the page.
    pub fn csrf(&self) -> String {
        field_value(&self.body, "csrf").unwrap_or_default()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}

/// The `value` of the first input named `name`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// One browser: its cookies, sent back to the portal (path `/portal`).
pub struct Web {
    pub base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// A `Host` header sent instead of the real one on requests to `base` (a hostile client).
    pub host: Option<String>,
}

impl Web {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            host: None,
        }
    }

    pub fn of(app: &TestApp) -> Self {
        Self::new(&app.base)
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        for c in headers.get_all(reqwest::header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let location = headers
            .get(reqwest::header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.text().await.unwrap();
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// A request to `path` with the cookies and, towards `base`, the `Host` override.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = self.url(path);
        let mut r = self
            .client
            .request(method, &url)
            .header("cookie", self.cookie_header());
        if let Some(host) = self.host.as_deref().filter(|_| url.starts_with(&self.base)) {
            r = r.header("host", host);
        }
        r
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// A URL-encoded POST of `fields`.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded_string(fields);
        let r = self
            .request(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// A multipart POST of `fields` (a field named `publicKeyPem` is sent as a file).
    pub async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let boundary = "----pmsportaltestboundary";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!("--{boundary}\r\n"));
            if *k == "publicKeyPem" {
                body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{k}\"; filename=\"key.pem\"\r\nContent-Type: application/x-pem-file\r\n\r\n{v}\r\n"
                ));
            } else {
                body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                ));
            }
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let r = self
            .request(reqwest::Method::POST, path)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Signs in on the dev page as `user` with `roles`; returns the CSRF token of the session.
    pub async fn dev_sign_in(&mut self, user: &str, roles: &[&str]) -> String {
        let form = self.get("/portal/dev-sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let mut fields = vec![("csrf", form.csrf()), ("user", user.to_string())];
        for r in roles {
            fields.push(("roles", (*r).to_string()));
        }
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = self.post("/portal/dev-sign-in", &f).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let home = self.get("/portal").await;
        assert_eq!(home.status, 200, "{}", home.body);
        home.csrf()
    }
}

fn serde_urlencoded_string(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A P-256 private key as PKCS#8 PEM, and the client id pms derives from it.
pub fn p256_pem() -> (String, String) {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let (_, id) =
        pms::jwk::for_client(&pem, None, &pms_domain::client_key::KeyPolicy::default()).unwrap();
    (pem, id)
}
