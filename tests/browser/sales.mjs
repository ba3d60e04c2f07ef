// The sales person's day: signs in (Customers, on their own accounts, most recently mentioned first), a
// reload keeps the session; a click on a row of the accounts table opens that account, which a reload
// keeps; then their alerts: one opened with its mentions and acknowledged, and its link opened in a new
// tab lands on it.
// Usage: node tests/browser/sales.mjs <url> <screenshots> <failures> <email> <password>
import { walkThrough } from "./walk.mjs";

const [url, shots, failures, email, password] = process.argv.slice(2);

await walkThrough("sales", { shots, failures }, async (day) => {
  const page = day.page;
  day.step("sign in: my accounts");
  await day.signIn(url, email, password);
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await page.getByText("Most recently mentioned first. Click a row to open the customer.").waitFor();
  await day.reloadKeeps("Customers");
  const table = page.getByTestId("stDataFrame").first();
  await table.waitFor();
  await day.shot("sales-accounts");

  day.step("a click on the first row opens the account");
  const box = await table.boundingBox();
  await page.mouse.click(box.x + 16, box.y + 35 + 17); // the first row's checkbox, below the header
  await page.getByText("CRM record").waitFor();
  const customer = new URL(page.url()).searchParams.get("customer");
  if (!customer) throw new Error(`no customer in ${page.url()}`);
  console.log(`account: ${JSON.stringify({ customer })}`);
  await day.reloadKeeps("Customers");
  await page.getByText("CRM record").waitFor();
  if (new URL(page.url()).searchParams.get("customer") !== customer) throw new Error("the reload left the account");
  await day.shot("sales-account");

  day.step("my alerts: one opened and acknowledged");
  await day.nav("Alerts");
  await page.getByRole("heading", { name: "Alerts" }).waitFor();
  await page.getByRole("link", { name: "Alert", exact: true }).first().click();
  await page.getByText("Mentions in this alert").waitFor();
  await page.waitForURL(/[?&]alert=/);
  const alert = new URL(page.url()).searchParams.get("alert");
  await page.waitForFunction(() => // the list drawn before is gone: one card, the alert's
    [...document.querySelectorAll("button")].filter((b) => b.innerText.trim() === "Acknowledge").length === 1);
  await page.getByRole("button", { name: "Acknowledge" }).click();
  await page.getByText(/acknowledged by Sarah Whitfield at /).first().waitFor();
  console.log(`alert: ${JSON.stringify({ alert })}`);
  await day.shot("sales-alert");

  day.step("the alert's link in a new tab lands on it");
  const tab = await day.newTab(`${url}/alerts?alert=${encodeURIComponent(alert)}`);
  await tab.getByRole("heading", { name: "Alerts" }).waitFor();
  await day.stillSignedIn(tab);
  await tab.getByText("Mentions in this alert").waitFor();
  await tab.close();
});
