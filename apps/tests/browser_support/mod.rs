//! Browser-test support: a minimal WebDriver client for chromedriver + headless Chromium.

pub mod webdriver;
