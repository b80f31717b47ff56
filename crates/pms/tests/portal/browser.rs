//! The journey in headless Chromium (see the module doc of `main.rs`).
