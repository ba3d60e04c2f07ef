// Signs in while the index is away, waits for the "reconnecting…" line (prints "away"), then, with no
// click or reload, waits for the Inbox to come back once the test has started the index (prints "back").
// Usage: node tests/browser/reconnect.mjs <dashboard url> <email> <password>
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
try {
  await page.goto(url);
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByRole("textbox", { name: "Password" }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("reconnecting…").waitFor();
  console.log("away");
  // The index has no Écoute indices yet: either line shows the page read it again.
  await page.getByText(/Matching mentions|Nothing is indexed yet/).first().waitFor();
  console.log("back");
} catch (error) {
  console.error(`failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
