// Signs in and visits the pages a hostile post reaches (inbox, its customer, alerts, review), printing
// every link target each page holds as one JSON line: {"page": ..., "links": [...]}.
// Usage: node tests/browser/hostile.mjs <dashboard url> <email> <password>
// Debian's Chromium only (never a downloaded browser), headless.
import { chromium } from "playwright-core";

const [url, email, password] = process.argv.slice(2);
const TIMEOUT = 90_000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
page.setDefaultTimeout(TIMEOUT);
const settle = async () => {
  await page.waitForFunction(() => !document.querySelector('[data-testid="stSkeleton"]'));
  await page.waitForTimeout(1500);
};
const links = async (name) => {
  await settle();
  const found = await page.$$eval("a[href]", (anchors) => anchors.map((a) => a.href));
  console.log(JSON.stringify({ page: name, links: found }));
};
const nav = (name) => page.getByTestId("stSidebarNav").getByRole("link", { name, exact: true }).click();

try {
  await page.goto(url);
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByRole("textbox", { name: "Password" }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Matching mentions").waitFor();
  await links("inbox");
  await page.getByTestId("stPageLink").first().click();
  await page.getByText("CRM record").waitFor();
  await links("customer");
  await nav("Alerts");
  await page.getByRole("heading", { name: "Alerts" }).waitFor();
  await links("alerts");
  await nav("Review & data quality");
  await page.getByRole("heading", { name: "Customer links and CRM data quality" }).waitFor();
  await links("review");
  console.log("ok");
} catch (error) {
  console.error(`failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
