//! The service's edge as an attacker meets it: metric labels from a fixed set, connection
//! timeouts and limits, dev mode on a public address.

use crate::helpers::*;

/// `GET /metrics` as text.
async fn metrics_text(app: &TestApp) -> String {
    let r = app.send("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    r.body.as_str().unwrap().to_string()
}

#[tokio::test]
async fn invented_methods_and_paths_do_not_make_new_metric_series() {
    let app = spawn_app().await;
    let before = metrics_text(&app).await.len();
    for i in 0..300 {
        let path = if i % 2 == 0 {
            format!("/x{i}")
        } else {
            "/v1/partnermanager/partners".to_string()
        };
        let r = app.send(&format!("M{i}"), &path, None, None).await;
        assert!(r.status >= 400 && r.status < 500, "{}", r.status);
    }
    // A standard method on made-up paths: one `unmatched` route, not a route per path.
    for i in 0..50 {
        app.send("GET", &format!("/nothing/{i}"), None, None).await;
    }
    let text = metrics_text(&app).await;
    assert!(!text.contains("method=\"M"), "{text}");
    assert!(!text.contains("/x1"), "{text}");
    assert!(!text.contains("/nothing/"), "{text}");
    assert!(text.contains("method=\"OTHER\""), "{text}");
    assert!(text.contains("route=\"unmatched\""), "{text}");
    let series = text
        .lines()
        .filter(|l| l.starts_with("pms_http_requests_total{"))
        .count();
    assert!(series <= 6, "{series} request series:\n{text}");
    // The exposition grew by a few series, not by hundreds.
    assert!(text.len() < before + 20_000, "{} -> {}", before, text.len());
}
