// The HR console in a real headless Chromium (Debian's, driven by
// playwright-core): signed out, sign-in with a login link, the programs'
// health, a program's page, Czech, keyboard use, another organisation's
// session, and a form without its CSRF token. Screenshots go to SHOTS.
//
// node console.mjs BASE_URL LINK OTHER_LINK SHOTS
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";

const [base, link, otherLink, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await (await browser.newContext({ locale: "en-GB" })).newPage();

  let resp = await page.goto(`${base}/admin`);
  check(resp.status() === 401, "signed out: /admin answers 401");
  check((await page.textContent("main")).includes("momentum admin login-link"), "signed out: says how to sign in");
  await page.screenshot({ path: `${shots}/signed-out.png`, fullPage: true });

  resp = await page.goto(link);
  check(page.url() === `${base}/admin`, "the login link lands on /admin");
  check(await page.isVisible("text=Leadership Academy 2026"), "the programs list shows the program");
  check(await page.isVisible("th:has-text('Engagement')"), "health columns are labelled");
  await page.screenshot({ path: `${shots}/programs.png`, fullPage: true });

  // A new program from the five-session template.
  await page.click("text=New program from a template");
  await page.fill("#name", "Leaders 2027");
  await page.fill("#key", "leaders-2027");
  await page.fill("#first_session", "2027-02-01");
  await page.screenshot({ path: `${shots}/new-program.png`, fullPage: true });
  await page.click("button:has-text('Create')");
  check(page.url().endsWith("/admin/programs/leaders-2027"), "a program created from the template");
  await page.goto(`${base}/admin`);

  // Keyboard: the first Tab reaches the skip link, Enter follows it.
  await page.keyboard.press("Tab");
  check((await page.evaluate(() => document.activeElement.textContent)).includes("Skip to content"), "keyboard: skip link first");

  const again = await page.goto(link);
  check(again.status() === 401, "a login link works once");
  await page.goto(`${base}/admin`);
  await page.click("text=Leadership Academy 2026");
  check(page.url().endsWith("/admin/programs/leaders-2026"), "the program's page opens");
  check(await page.isVisible("h2:has-text('Delivery problems')"), "the program's delivery problems");
  await page.screenshot({ path: `${shots}/program.png`, fullPage: true });

  // The schedule preview for someone in Sydney, across their clock change.
  await page.click("text=Schedule preview");
  await page.fill("#zone", "Australia/Sydney");
  await page.keyboard.press("Enter");
  await page.waitForURL(/zone=Australia/);
  const schedule = await page.textContent("table");
  check(schedule.includes("UTC+10:00") && schedule.includes("UTC+11:00"), "schedule preview across a DST change");
  await page.screenshot({ path: `${shots}/schedule-sydney.png`, fullPage: true });

  // Enrolment from a CSV with mistakes: each row's problem, nothing applied;
  // then the corrected file, all at once.
  await page.goto(`${base}/admin/programs/leaders-2026`);
  await page.click("text=Enrol people from a CSV");
  const wrong = "Name;Work email;Manager;Time zone;Cohort\n" +
    "Olga Malá;olga.mala@acme.example;pavel.svoboda@acme.example;Europe/Prague;autumn-2026\n" +
    "Karel Velký;karel.velky-at-acme.example;pavel.svoboda@acme.example;Europe/Praha;autumn-2026\n";
  writeFileSync(`${shots}/../enrolment.csv`, wrong);
  await page.setInputFiles("#file", `${shots}/../enrolment.csv`);
  await page.waitForFunction(() => document.getElementById("csv").value.includes("Olga"));
  await page.click("button:has-text('Check')");
  const rowsText = await page.textContent("table");
  check(rowsText.includes("is not an email") && rowsText.includes("is not a time zone"), "CSV: each row's problems");
  check(!(await page.isVisible("button:has-text('Enrol')")), "CSV: no enrolling while rows are wrong");
  await page.screenshot({ path: `${shots}/enrol-problems.png`, fullPage: true });
  await page.fill("#csv", wrong.replace("karel.velky-at-acme.example", "karel.velky@acme.example").replace("Europe/Praha", "Europe/Prague"));
  await page.click("button:has-text('Check')");
  await page.click("button:has-text('Enrol 2 people')");
  check(await page.isVisible("text=Enrolled: 2 added"), "CSV: the corrected file enrols everyone");
  await page.screenshot({ path: `${shots}/enrol-done.png`, fullPage: true });

  await page.goto(`${base}/admin/programs/leaders-2026?lang=cs`);
  check(await page.isVisible("h2:has-text('Problémy s doručením')"), "Czech");
  await page.screenshot({ path: `${shots}/program-cs.png`, fullPage: true });

  // A form posted without the session's CSRF token is refused.
  const forged = await page.evaluate(async () => {
    const r = await fetch("/admin/logout", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "csrf=forged" });
    return r.status;
  });
  check(forged === 403, "a form without the session's token is refused");
  await page.goto(`${base}/admin`);
  await page.click("button:has-text('Sign out')");
  check(await page.isVisible("h1:has-text('Signed out')"), "sign out");
  resp = await page.goto(`${base}/admin`);
  check(resp.status() === 401, "no page after signing out");

  // Sign in with Slack (the local workspace's sign-in page): the program's HR admin.
  const hr = await (await browser.newContext()).newPage();
  await hr.goto(`${base}/admin`);
  await hr.click("text=Sign in with Slack");
  check(await hr.isVisible("text=pick who you are"), "Slack asks who signs in");
  await hr.click("text=Klára Veselá");
  check(hr.url() === `${base}/admin` && (await hr.isVisible("text=Leadership Academy 2026")), "the HR admin is signed in with Slack");
  const participant = await (await browser.newContext()).newPage();
  await participant.goto(`${base}/admin`);
  await participant.click("text=Sign in with Slack");
  resp = await Promise.all([participant.waitForNavigation(), participant.click("text=Jana Nováková")]);
  check((await participant.textContent("h1")).includes("Not an HR admin"), "a participant is not let in");
  await participant.screenshot({ path: `${shots}/not-an-admin.png`, fullPage: true });

  // Another organisation's session sees none of this one's programs.
  const other = await (await browser.newContext()).newPage();
  await other.goto(otherLink);
  check(!(await other.isVisible("text=Leadership Academy 2026")), "another organisation: not in its list");
  resp = await other.goto(`${base}/admin/programs/leaders-2026`);
  check(resp.status() === 404, "another organisation: the program is not found");
  await other.screenshot({ path: `${shots}/other-organisation.png`, fullPage: true });
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} browser checks failed`);
  process.exit(1);
}
console.log("all browser checks passed");
