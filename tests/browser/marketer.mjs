// The marketer's day: signs in, a reload keeps the session; Insights explains the spike and one click
// opens its posts in the Inbox (filters in the address, which a new tab keeps); then French, kept by a
// reload, with Insights printed as read for the test to look for English ("page: <json>").
// Usage: node tests/browser/marketer.mjs <dashboard url> <screenshots> <failures> <email> <password>
import { walkThrough } from "./walk.mjs";

const [url, shots, failures, email, password] = process.argv.slice(2);

await walkThrough("marketer", { shots, failures }, async (day) => {
  const page = day.page;
  day.step("sign in, reload");
  await day.signIn(url, email, password);
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await day.reloadKeeps("Inbox");

  day.step("insights: the spike explained");
  await day.nav("Insights");
  await page.getByRole("heading", { name: "Insights" }).waitFor();
  const spike = page.getByText(/^Spike on /).first();
  await spike.waitFor();
  await page.getByText(/^What stands out against the period before: /).first().waitFor();
  await day.settle();
  // The chart with its spike at the top of the window, the explanation and its link below it.
  await page.getByTestId("stVegaLiteChart").first().evaluate((chart) => chart.scrollIntoView({ block: "start" }));
  await day.shot("marketer-insights-spike");

  day.step("one click to the spike's posts");
  await page.getByRole("link", { name: "Open these posts in the Inbox" }).first().click();
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await page.getByText(/^Showing \d+ of \d+/).waitFor();
  const address = new URL(page.url());
  const [query, from, to] = ["q", "from", "to"].map((k) => address.searchParams.get(k));
  if (!query || !from || !to) throw new Error(`no spike filters in ${page.url()}`);
  const searchBox = page.getByTestId("stSidebar").getByRole("textbox", { name: "Search" });
  await day.holds(searchBox, query, "the search box");
  await day.settle(); // the Inbox drawn before the click is replaced, not added to
  let days = await postDays(page);
  for (let tries = 0; !days.length && tries < 30; tries++) {
    await page.waitForTimeout(500);
    days = await postDays(page);
  }
  if (!days.length || days.some((d) => d < from || d > to)) throw new Error(`posts of ${days} not in ${from}..${to}`);
  console.log(`spike posts: ${JSON.stringify({ query, from, to, shown: days.length })}`);
  await day.shot("marketer-spike-posts");

  day.step("the same link in a new tab");
  const tab = await day.newTab(page.url());
  await tab.getByRole("heading", { name: "Inbox" }).waitFor();
  await day.stillSignedIn(tab);
  const again = tab.getByTestId("stSidebar").getByRole("textbox", { name: "Search" });
  await tab.getByText(/^Showing \d+ of \d+/).waitFor();
  await day.holds(again, query, "the search box of the new tab");
  await tab.close();

  day.step("French, kept by a reload");
  await day.language("Français");
  await page.getByRole("heading", { name: "Boîte de réception" }).waitFor();
  await day.nav("Analyses");
  await page.getByRole("heading", { name: "Analyses" }).waitFor();
  await day.reloadKeeps("Analyses");
  await page.getByText(/^Pic le /).first().waitFor();
  await day.settle();
  console.log(`page: ${JSON.stringify(await day.readableText())}`);
  await day.shot("marketer-insights-fr");
});

/** The days (UTC) the Inbox cards say their posts were written (cards of a run still drawing left out). */
async function postDays(page) {
  const captions = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .filter((c) => !c.closest('[data-stale="true"]'))
      .map((c) => c.innerText),
  );
  return captions.flatMap((c) => [...c.matchAll(/(\d{4}-\d{2}-\d{2}) \d{2}:\d{2} UTC/g)].map((m) => m[1]));
}
