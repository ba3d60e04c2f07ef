// Signs in, triages a mention, sees it change, opens a customer; screenshots each page.
// Usage: node tests/browser/dashboard.mjs <dashboard url> <screenshot folder> <email> <password>
// Debian's Chromium only (never a downloaded browser), headless.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [url, shots, email, password] = process.argv.slice(2);
const TIMEOUT = 30_000;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
page.setDefaultTimeout(TIMEOUT);
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
const step = (what) => console.log(`step: ${what}`);

try {
  step("sign in");
  await page.goto(url);
  await page.getByRole("heading", { name: "Sign in to Écoute" }).waitFor();
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByRole("textbox", { name: "Password" }).fill(password);
  await shot("sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await page.getByText("Matching mentions").waitFor();
  await shot("inbox");

  step("triage the newest mention");
  // The sidebar has expanders too (saving a search): the triage ones are named "Triage · status".
  const triageExpanders = () => page.getByTestId("stExpander").filter({ hasText: "Triage ·" });
  const triage = triageExpanders().first();
  await triage.locator("summary").click();
  await triage.getByTestId("stSelectbox").first().click();
  await page.getByRole("option", { name: "answered", exact: true }).click();
  await triage.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  step("see it change");
  await triageExpanders().first().locator("summary", { hasText: "answered" }).waitFor();
  await page.getByText("Status: answered").first().waitFor();
  await shot("inbox-triaged");

  step("open a customer from a mention");
  await page.getByTestId("stSidebar").getByText("Customers only").click();
  const customerLink = page.getByTestId("stPageLink").first();
  await customerLink.waitFor();
  await customerLink.click();
  await page.getByText("CRM record").waitFor();
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await shot("customer");

  step("insights");
  await page.getByTestId("stSidebarNav").getByText("Insights").click();
  await page.getByRole("heading", { name: "Insights" }).waitFor();
  await page.getByText("Sentiment over time").waitFor();
  await page.waitForTimeout(1500); // let the charts draw
  await shot("insights");

  step("alerts");
  await page.getByTestId("stSidebarNav").getByText("Alerts").click();
  await page.getByRole("heading", { name: "Alerts" }).waitFor();
  await shot("alerts");
  console.log("ok");
} catch (error) {
  await shot("failure").catch(() => {});
  console.error(`failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
