//! The whole journey in headless Chromium over WebDriver (fantoccini): the policy manager
//! publishes a policy, a partner registers, the admin activates it and approves its request, the
//! partner creates a client from a PEM file (after a preview), edits it and deactivates it; with
//! the main error paths on the way (bad key, bad redirect URI, a form without its CSRF token,
//! another partner's id). Each page is saved to `docs/screenshots/` for the README.
//!
//! Runs only when `PMS_TEST_CHROMEDRIVER` names a chromedriver binary (Debian packages
//! `chromium` and `chromium-driver`); the test starts chromedriver itself on a free port.

use crate::helpers::*;
use crate::web::p256_pem;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

struct Driver {
    _child: tokio::process::Child,
    url: String,
}

async fn start_chromedriver(path: &str) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{url}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Driver { _child: child, url };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut options = json!({
        "args": ["--headless=new", "--no-sandbox", "--window-size=1280,900",
                 "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
    });
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    // chromedriver listens on loopback: plain HTTP, no TLS stack needed.
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap()
}

fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

/// A full-page screenshot of what the browser shows, as `docs/screenshots/<name>.png`.
async fn shot(c: &Client, name: &str) {
    // Grow the window to the page's height so the screenshot holds the whole page.
    let (w, _) = c.get_window_size().await.unwrap();
    let dims = c
        .execute(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let page = dims[0].as_u64().unwrap_or(900);
    let chrome = dims[1].as_u64().unwrap_or(0);
    let h = (page + chrome).clamp(600, 4000) as u32;
    c.set_window_size(w as u32, h).await.unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::create_dir_all(screenshot_dir()).unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
    c.set_window_size(w as u32, 900).await.unwrap();
}

async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(sel))
        .await
        .unwrap_or_else(|e| panic!("{sel}: {e}"))
}

/// The button of `main` labelled `label`.
async fn button(c: &Client, label: &str) -> fantoccini::elements::Element {
    let xp = format!(
        "//main//button[normalize-space()='{label}'] | //main//a[normalize-space()='{label}']"
    );
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&xp))
        .await
        .unwrap_or_else(|e| panic!("button {label}: {e}"))
}

async fn type_into(c: &Client, sel: &str, text: &str) {
    let e = css(c, sel).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

async fn text(c: &Client) -> String {
    css(c, "main").await.text().await.unwrap()
}

/// Clicks `label` and waits until the page shows `expect` (text of `main`).
async fn click_until(c: &Client, label: &str, expect: &str) {
    button(c, label).await.click().await.unwrap();
    wait_text(c, expect).await;
}

async fn wait_text(c: &Client, expect: &str) {
    for _ in 0..100 {
        // The page may be replaced between the find and the read: just try again.
        if let Ok(main) = c.find(Locator::Css("main")).await {
            if main.text().await.is_ok_and(|t| t.contains(expect)) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the page never showed {expect:?}; it shows:\n{}",
        text(c).await
    );
}

async fn sign_in(c: &Client, base: &str, user: &str, roles: &[&str]) {
    c.goto(&format!("{base}/portal/dev-sign-in")).await.unwrap();
    type_into(c, "#user", user).await;
    for r in roles {
        css(c, &format!("#role-{r}")).await.click().await.unwrap();
    }
    click_until(c, "Sign in", &format!("Welcome, {user}")).await;
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form.signout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, "Signed out").await;
}

/// Presses `key` (a WebDriver key code) once, wherever the focus is.
async fn press(c: &Client, key: char) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.unwrap();
}

/// Tabs until the focused element matches `sel` (at most 20 stops).
async fn tab_to(c: &Client, sel: &str) {
    for _ in 0..20 {
        press(c, fantoccini::key::Key::Tab.into()).await;
        let hit = c
            .execute(
                &format!("return document.activeElement.matches({sel:?});"),
                vec![],
            )
            .await
            .unwrap();
        if hit == json!(true) {
            return;
        }
    }
    panic!("Tab never reached {sel}");
}

/// Whether the page is wider than the window (a layout that breaks at this width).
async fn overflows(c: &Client) -> bool {
    c.execute(
        "return document.documentElement.scrollWidth > window.innerWidth;",
        vec![],
    )
    .await
    .unwrap()
        == json!(true)
}

async fn count(app: &TestApp, table: &str) -> String {
    app.db
        .strings(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
        .await
        .concat()
}

#[tokio::test]
async fn journey_in_headless_chromium() {
    let Some(driver_path) = std::env::var("PMS_TEST_CHROMEDRIVER")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        println!(
            "portal browser journey skipped: install chromium and chromium-driver and set \
             PMS_TEST_CHROMEDRIVER=/usr/bin/chromedriver to run it"
        );
        return;
    };
    // eSignet is configured but unreachable and deliveries give up at once, so the journey also
    // shows a failed delivery and its redelivery.
    let app = spawn_with(|c| {
        c.portal.cookie_secure = false;
        c.esignet.base_url = "http://127.0.0.1:9".into();
        c.service_token.token_url = "http://127.0.0.1:9/token".into();
        c.service_token.client_id = "pms".into();
        c.service_token.client_secret = "secret".into();
        c.delivery.max_attempts = 1;
        c.delivery.http_timeout_seconds = 2;
        c.delivery.poll_interval_ms = 200;
    })
    .await;
    let base = app.base.clone();
    let driver = start_chromedriver(&driver_path).await;
    let c = browser(&driver).await;

    // ---- policy manager: a group and a published policy
    c.goto(&format!("{base}/portal/dev-sign-in")).await.unwrap();
    css(&c, "#user").await;
    shot(&c, "01-dev-sign-in").await;
    sign_in(&c, &base, "pm1", &["POLICYMANAGER"]).await;
    c.goto(&format!("{base}/portal/policy/groups"))
        .await
        .unwrap();
    type_into(&c, "#name", "Health services").await;
    type_into(
        &c,
        "#desc",
        "Relying parties of the national health programme",
    )
    .await;
    click_until(&c, "Create group", "The policy group is created").await;
    shot(&c, "02-policy-groups").await;

    c.goto(&format!("{base}/portal/policy/policies"))
        .await
        .unwrap();
    css(&c, "#policyGroupName")
        .await
        .select_by_value("Health services")
        .await
        .unwrap();
    type_into(&c, "#name", "eSignet login").await;
    type_into(&c, "#desc", "Login with OTP or wallet, name and e-mail").await;
    // an auth type outside the allow-list: refused next to the JSON, nothing saved
    let before = app.dump().await;
    let area = css(&c, "#policies").await;
    area.clear().await.unwrap();
    area.send_keys(r#"{"authTokenType":"policy","allowedAuthTypes":[{"authType":"telepathy","authSubType":"","mandatory":false}],"allowedKycAttributes":[{"attributeName":"fullName"}]}"#)
        .await
        .unwrap();
    click_until(&c, "Save draft", "Invalid input parameter").await;
    assert!(css(&c, "#policies-error")
        .await
        .text()
        .await
        .unwrap()
        .contains("PMS_PV_005"));
    assert_eq!(
        css(&c, "#name")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("eSignet login")
    );
    shot(&c, "03-policy-error").await;
    assert_eq!(before, app.dump().await);
    // the example document is valid: save it and publish
    c.goto(&format!("{base}/portal/policy/policies"))
        .await
        .unwrap();
    css(&c, "#policyGroupName")
        .await
        .select_by_value("Health services")
        .await
        .unwrap();
    type_into(&c, "#name", "eSignet login").await;
    type_into(&c, "#desc", "Login with OTP or wallet, name and e-mail").await;
    click_until(&c, "Check", "The policy is valid").await;
    click_until(&c, "Save draft", "The draft policy is saved").await;
    click_until(&c, "Publish", "The policy is published").await;
    shot(&c, "04-policies").await;
    sign_out(&c).await;

    // ---- another organisation exists (its id is used below to try someone else's partner)
    app.register_partner("otherorg", "Health services")
        .await
        .ok();

    // ---- partner registers
    sign_in(&c, &base, "healthorg", &["AUTH_PARTNER"]).await;
    c.goto(&format!("{base}/portal/partner")).await.unwrap();
    type_into(&c, "#partnerId", "healthorg").await;
    type_into(
        &c,
        "#organizationName",
        "Ministry of Health and Family Welfare — National Digital Health Mission Integration Office",
    )
    .await;
    css(&c, "#policyGroup")
        .await
        .select_by_value("Health services")
        .await
        .unwrap();
    type_into(&c, "#address", "12 Main Street, Capital City").await;
    type_into(&c, "#contactNumber", "9876543210").await;
    // a bad e-mail first: the API's message next to the field, what was typed kept
    type_into(&c, "#emailId", "not-an-email").await;
    click_until(&c, "Register", "Invalid emailId").await;
    assert_eq!(
        css(&c, "#partnerId")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("healthorg")
    );
    type_into(&c, "#emailId", "it@health.example.org").await;
    click_until(&c, "Register", "Waiting for a partner admin").await;
    shot(&c, "05-partner-registered").await;
    sign_out(&c).await;

    // ---- admin activates
    sign_in(&c, &base, "admin1", &["PARTNER_ADMIN"]).await;
    c.goto(&format!("{base}/portal/admin/partners"))
        .await
        .unwrap();
    let activate = c
        .find(Locator::XPath(
            "//tr[.//span[normalize-space()='healthorg']]//button[normalize-space()='Activate']",
        ))
        .await
        .unwrap();
    activate.click().await.unwrap();
    wait_text(&c, "The partner is activated").await;
    shot(&c, "06-admin-partners").await;
    sign_out(&c).await;

    // ---- partner requests the policy
    sign_in(&c, &base, "healthorg", &["AUTH_PARTNER"]).await;
    c.goto(&format!("{base}/portal/partner")).await.unwrap();
    type_into(
        &c,
        "#useCaseDescription",
        "Citizens sign in to the health records portal",
    )
    .await;
    click_until(&c, "Request policy", "Your policy request is submitted").await;
    shot(&c, "07-policy-requested").await;
    sign_out(&c).await;

    // ---- admin approves
    sign_in(&c, &base, "admin1", &["PARTNER_ADMIN"]).await;
    c.goto(&format!("{base}/portal/admin/mappings"))
        .await
        .unwrap();
    click_until(&c, "Approve", "The request is approved").await;
    shot(&c, "08-admin-requests").await;
    sign_out(&c).await;

    // ---- partner creates a client from a PEM file
    sign_in(&c, &base, "healthorg", &["AUTH_PARTNER"]).await;
    let dir = tempfile::tempdir().unwrap();
    let (pem, client_id) = p256_pem();
    let pem_path = dir.path().join("client-key.pem");
    std::fs::write(&pem_path, &pem).unwrap();
    let bad_path = dir.path().join("not-a-key.pem");
    std::fs::write(
        &bad_path,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    c.goto(&format!("{base}/portal/clients/new")).await.unwrap();
    type_into(&c, "#name", "Health records portal").await;
    type_into(&c, "#logoUri", "https://health.example.org/logo.png").await;
    type_into(&c, "#redirectUris-1", "https://health.example.org/callback").await;
    // the growing list (JS): a second redirect URI
    css(&c, "button.add-uri").await.click().await.unwrap();
    type_into(&c, "#redirectUris-2", "$not a uri").await;
    css(&c, "#publicKeyPem")
        .await
        .send_keys(pem_path.to_str().unwrap())
        .await
        .unwrap();
    // bad redirect URI: refused next to the list, nothing written
    let before = app.dump().await;
    click_until(&c, "Create client", "Invalid redirect uri (entry 2)").await;
    shot(&c, "09-client-bad-redirect-uri").await;
    assert_eq!(before, app.dump().await);
    // the typed values are kept; the PEM file came back as its JWK
    let jwk = css(&c, "#publicKey")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(jwk.contains("\"kty\": \"EC\""), "{jwk}");
    type_into(
        &c,
        "#redirectUris-2",
        "https://health.example.org/callback/*",
    )
    .await;
    // a bad key file: refused next to the key
    css(&c, "#publicKeyPem")
        .await
        .send_keys(bad_path.to_str().unwrap())
        .await
        .unwrap();
    click_until(&c, "Create client", "The PEM file cannot be used").await;
    shot(&c, "10-client-bad-key").await;
    assert_eq!(before, app.dump().await);
    // another partner's id (a tampered form): refused, nothing written
    css(&c, "#publicKeyPem")
        .await
        .send_keys(pem_path.to_str().unwrap())
        .await
        .unwrap();
    c.execute(
        "const o = document.createElement('option'); o.value = 'otherorg'; o.text = 'otherorg'; \
         const s = document.getElementById('authPartnerId'); s.add(o); s.value = 'otherorg';",
        vec![],
    )
    .await
    .unwrap();
    click_until(&c, "Create client", "does not belong to the user").await;
    assert!(css(&c, "#authPartnerId-error")
        .await
        .text()
        .await
        .unwrap()
        .contains("PMS_POLICY_ERROR_009"));
    assert_eq!(before, app.dump().await);
    // preview: the derived id, claims and ACR values, nothing written
    css(&c, "#publicKeyPem")
        .await
        .send_keys(pem_path.to_str().unwrap())
        .await
        .unwrap();
    // the live preview (portal.js) shows the derived id as soon as the file is chosen
    let mut live = String::new();
    for _ in 0..100 {
        live = css(&c, "#preview-live").await.text().await.unwrap();
        if live.contains(&client_id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(live.contains(&client_id), "{live}");
    assert_eq!(before, app.dump().await);
    click_until(&c, "Preview", "Preview: nothing is saved yet").await;
    assert!(text(&c).await.contains(&client_id));
    shot(&c, "11-client-preview").await;
    assert_eq!(before, app.dump().await);
    // create (the converted JWK is in the form now)
    click_until(&c, "Create client", "The client is created").await;
    assert!(text(&c).await.contains(&client_id));
    assert_eq!(count(&app, "oidc_client").await, "1");

    // eSignet is unreachable: the delivery fails and the detail page says so
    for _ in 0..100 {
        c.refresh().await.unwrap();
        if text(&c).await.contains("FAILED") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(text(&c).await.contains("FAILED"), "{}", text(&c).await);
    shot(&c, "12-client-detail").await;
    // readable at 360 px: no page wider than the window, long organisation name and ids wrap
    c.set_window_size(360, 900).await.unwrap();
    assert!(!overflows(&c).await, "client detail overflows at 360 px");
    shot(&c, "13-client-detail-360px").await;
    for page in ["/portal/clients", "/portal/partner", "/portal/clients/new"] {
        c.goto(&format!("{base}{page}")).await.unwrap();
        css(&c, "main").await;
        assert!(!overflows(&c).await, "{page} overflows at 360 px");
    }
    c.set_window_size(1280, 900).await.unwrap();

    c.goto(&format!("{base}/portal/clients")).await.unwrap();
    wait_text(&c, &client_id).await;
    shot(&c, "14-clients").await;

    // ---- edit; first a form that lost its CSRF token: refused, nothing changed
    c.goto(&format!("{base}/portal/clients/{client_id}/edit"))
        .await
        .unwrap();
    type_into(&c, "#clientName", "Health records portal (v2)").await;
    let before = app.dump().await;
    c.execute(
        "document.querySelector('main form input[name=csrf]').remove();",
        vec![],
    )
    .await
    .unwrap();
    click_until(&c, "Save", "Nothing was changed").await;
    shot(&c, "15-csrf-refused").await;
    assert_eq!(before, app.dump().await);
    c.goto(&format!("{base}/portal/clients/{client_id}/edit"))
        .await
        .unwrap();
    type_into(&c, "#clientName", "Health records portal (v2)").await;
    shot(&c, "16-client-edit").await;
    click_until(&c, "Save", "The client is saved").await;
    assert!(text(&c).await.contains("Health records portal (v2)"));

    // ---- deactivate, after a confirmation that says it cannot be undone
    click_until(&c, "Deactivate", "This cannot be undone").await;
    shot(&c, "17-client-deactivate").await;
    click_until(&c, "Deactivate for good", "The client is deactivated").await;
    assert!(text(&c).await.contains("INACTIVE"));
    let status = app
        .db
        .strings(&format!(
            "SELECT status FROM oidc_client WHERE id = '{client_id}'"
        ))
        .await;
    assert_eq!(status, vec!["INACTIVE".to_string()]);
    sign_out(&c).await;

    // ---- admin: all clients, failed deliveries and redeliver
    sign_in(&c, &base, "admin1", &["PARTNER_ADMIN"]).await;
    c.goto(&format!("{base}/portal/admin/clients?delivery=FAILED"))
        .await
        .unwrap();
    wait_text(&c, "Health records portal (v2)").await;
    shot(&c, "18-admin-clients").await;
    c.goto(&format!("{base}/portal/admin/deliveries"))
        .await
        .unwrap();
    wait_text(&c, &client_id).await;
    shot(&c, "19-admin-deliveries").await;
    click_until(&c, "Redeliver", "The failed deliveries are queued again").await;
    // ---- without a mouse: the skip link is the first stop; sign in with the keyboard alone
    sign_out(&c).await;
    c.goto(&format!("{base}/portal/dev-sign-in")).await.unwrap();
    css(&c, "#user").await;
    press(&c, fantoccini::key::Key::Tab.into()).await;
    let first = c
        .execute("return document.activeElement.className;", vec![])
        .await
        .unwrap();
    assert_eq!(first, json!("skip"));
    tab_to(&c, "#user").await;
    c.active_element()
        .await
        .unwrap()
        .send_keys("kbuser")
        .await
        .unwrap();
    tab_to(&c, "#role-AUTH_PARTNER").await;
    press(&c, fantoccini::key::Key::Space.into()).await;
    tab_to(&c, "main button[type=submit]").await;
    press(&c, fantoccini::key::Key::Enter.into()).await;
    wait_text(&c, "Welcome, kbuser").await;
    tab_to(&c, "main a[href='/portal/partner']").await;
    press(&c, fantoccini::key::Key::Enter.into()).await;
    wait_text(&c, "Register an organisation").await;
    c.close().await.unwrap();
}
