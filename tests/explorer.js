// explorer.js — the explorer page in a real browser (Debian's Chromium, driven by playwright-core):
// load it, draw a stroke on the canvas and see the predicted class appear, open a layer and see its
// maps, click a map to see it large with its filter and a value on hover, switch to Grad-CAM. A
// screenshot of each step goes to OUT_DIR.
// With ONNX_URL, the same page on an imported ONNX network (torchvision's resnet18, seeded weights,
// served with --imagenet): upload a photo, see the top classes, open the first convolution's 64 maps,
// click one for its 3 x 7 x 7 filter, Grad-CAM.
// usage: NODE_PATH=.../node_modules node explorer.js URL OUT_DIR [ONNX_URL]
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");

const [url, out, onnxUrl] = process.argv.slice(2);
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else { failed++; console.log(`FAILED: ${name}${detail ? " (" + detail + ")" : ""}`); }
}

// A new page at `at`, once its model list has loaded; errors collects the page's script errors.
async function openPage(browser, at, errors) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(at);
  await page.waitForSelector("#model option", { state: "attached", timeout: 10000 });
  return page;
}

async function walkOnnx(browser) {
  const errors = [];
  try {
    const page = await openPage(browser, onnxUrl, errors);
    await page.setInputFiles("#file", "/usr/share/darknet/data/dog.jpg");
    await page.waitForSelector("#bars .bar", { timeout: 60000 });
    check("onnx: an uploaded photo shows the top classes", (await page.$$eval("#bars .bar", (b) => b.length)) === 5);
    const first = await page.$$eval(".layer", (ls) => ls.find((l) => / x 64\)/.test(l.textContent)).dataset.k);
    await page.click(`.layer[data-k="${first}"]`);
    await page.waitForFunction(() => document.querySelectorAll("#maps canvas").length > 0, null, { timeout: 60000 });
    const maps = await page.$$eval("#maps canvas", (c) => c.length);
    check("onnx: the first convolution shows 64 maps", maps === 64, `${maps} maps`);
    await page.click('#maps canvas[data-map="3"]');
    await page.waitForFunction(() => document.querySelector("#filter-shape").textContent.length > 0, null, { timeout: 60000 });
    const filter = await page.textContent("#filter-shape");
    check("onnx: a map's filter is 7 x 7 over 3 channels", /7 x 7/.test(filter) && /3/.test(filter), filter);
    await page.screenshot({ path: `${out}/6-onnx-map.png` });
    await page.selectOption("#method", "gradcam");
    await page.click("#explain");
    await page.waitForFunction(() => { const i = document.querySelector("#explained"); return !i.hidden && i.complete && i.naturalWidth > 0; }, null, { timeout: 60000 });
    const size = await page.$eval("#explained", (i) => [i.naturalWidth, i.naturalHeight]);
    check("onnx: Grad-CAM shows a 224 x 224 overlay", size[0] === 224 && size[1] === 224, size.join(" "));
    await page.locator("#explained").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${out}/7-onnx-gradcam.png` });
    check("onnx: no errors in the page", errors.length === 0 && !(await page.textContent("#status")).trim(), errors.join("; "));
  } catch (e) {
    check("onnx: the walk through the page", false, e.message.split("\n")[0]);
  }
}

(async () => {
  fs.mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  const errors = [];
  try {
    const page = await openPage(browser, url, errors);
    check("the page lists the model", (await page.$$eval("#model option", (o) => o.map((x) => x.textContent))).includes("lenet5"));
    await page.screenshot({ path: `${out}/1-loaded.png` });

    // a pair of trousers, as Fashion-MNIST draws them: a waistband and two wide legs
    const box = await page.locator("#draw").boundingBox();
    const stroke = async (points) => {
      await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
      await page.mouse.up();
    };
    await stroke([[80, 35], [200, 35]]);
    await stroke([[80, 50], [200, 50]]);
    for (const x of [82, 96, 108]) await stroke([[x + 8, 45], [x, 255]]);
    for (const x of [172, 184, 198]) await stroke([[x - 8, 45], [x, 255]]);
    await page.waitForSelector("#bars .bar", { timeout: 10000 });
    const predicted = await page.$eval("#bars", (b) => b.dataset.predicted);
    const bars = await page.$$eval("#bars .bar", (b) => b.length);
    check("drawing shows the top classes", bars === 5 && !!predicted, `${bars} bars, predicted ${predicted}`);
    await page.screenshot({ path: `${out}/2-drawn.png` });

    await page.click('.layer[data-k="1"]');
    await page.waitForFunction(() => document.querySelectorAll("#maps canvas").length > 0, null, { timeout: 10000 });
    const maps = await page.$$eval("#maps canvas", (c) => c.length);
    check("opening conv2d_1 shows its 6 maps", maps === 6, `${maps} maps`);
    await page.screenshot({ path: `${out}/3-layer.png` });

    await page.click('#maps canvas[data-map="2"]');
    await page.waitForFunction(() => !document.querySelector("#detail").hidden, null, { timeout: 10000 });
    await page.waitForFunction(() => document.querySelector("#filter-shape").textContent.length > 0, null, { timeout: 10000 });
    const big = await page.locator("#big").boundingBox();
    await page.mouse.move(big.x + big.width / 2, big.y + big.height / 2);
    const value = await page.textContent("#value");
    check("clicking a map shows it large, its filter and a value on hover", /^\(\d+, \d+\): -?\d/.test(value.trim()),
          `value '${value.trim()}', filter ${await page.textContent("#filter-shape")}`);
    await page.screenshot({ path: `${out}/4-map.png` });

    await page.click('.layer[data-k="7"]'); // the dense output: a barcode
    await page.waitForFunction(() => document.querySelectorAll("#maps canvas").length === 1, null, { timeout: 10000 });
    check("a dense layer is one barcode", (await page.$$eval("#maps canvas", (c) => c.length)) === 1);

    await page.selectOption("#method", "gradcam");
    await page.click("#explain");
    await page.waitForFunction(() => { const i = document.querySelector("#explained"); return !i.hidden && i.complete && i.naturalWidth > 0; }, null, { timeout: 10000 });
    const size = await page.$eval("#explained", (i) => [i.naturalWidth, i.naturalHeight, i.dataset.method]);
    check("Grad-CAM shows a 224 x 224 overlay", size[0] === 224 && size[1] === 224 && size[2] === "gradcam", size.join(" "));
    await page.screenshot({ path: `${out}/5-gradcam.png` });
    check("no errors in the page", errors.length === 0 && !(await page.textContent("#status")).trim(), errors.join("; "));
  } catch (e) {
    check("the walk through the page", false, e.message.split("\n")[0]);
  }
  if (onnxUrl) await walkOnnx(browser);
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
})();
