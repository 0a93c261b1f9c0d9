// SPDX-License-Identifier: MIT
//
// The official Hugging Face JavaScript client (@huggingface/inference), unchanged, against
// `micronlp serve`'s Hugging Face shapes at /hf/models/{name}. Two releases are run: the current
// one (4.x: `new InferenceClient().textClassification({endpointUrl, ...})`) and the last 2.x
// (`new HfInferenceEndpoint(url)`), which older applications still pin and which sends the
// legacy `options` headers. Each call goes through the client's own request building and its
// own response validation (it throws on a shape it does not expect), then the parsed answer is
// checked here. Started by tests/interop/run.sh with MN_URL=http://127.0.0.1:PORT; prints one
// line per check and ends with "N passed, N failed" (exit status 1 if any failed).
import assert from "node:assert/strict";
import { InferenceClient, InferenceClientProviderApiError } from "@huggingface/inference";
import { HfInferenceEndpoint } from "hf-inference-2";

const base = process.env.MN_URL;
if (!base) {
    console.error("hf.mjs: set MN_URL (e.g. http://127.0.0.1:8080)");
    process.exit(2);
}
const hf = (model) => `${base}/hf/models/${model}`;

const SPAM =
    "Congratulations! You have been selected to receive a FREE $1000 gift card. Click here now " +
    "to claim your prize before it expires. Reply with your bank details to confirm.";
const HAM = "Hi Anna, the meeting moved to Thursday at 10. I attached the minutes from last week. Thanks, Tom";
const NER = "José Martínez flew from Zürich to São Paulo with Barack Obama.";
const POS = "The cat sat on the mat.";

let passed = 0;
let failed = 0;
async function check(name, fn) {
    try {
        await fn();
        passed++;
        console.log(`ok    ${name}`);
    } catch (e) {
        failed++;
        console.log(`FAIL  ${name}\n      ${String(e && e.stack ? e.stack : e).split("\n").slice(0, 4).join("\n      ")}`);
    }
}

async function labelsOf(model) {
    const r = await fetch(`${base}/v1/models/${model}`);
    assert.equal(r.status, 200);
    return (await r.json()).labels;
}

// A text-classification answer: every label once, scores in [0, 1], best first.
function assertClassification(out, labels, top) {
    assert.ok(Array.isArray(out), "an array");
    assert.ok(out.length >= 1 && out.length <= labels.length);
    for (const x of out) {
        assert.equal(typeof x.label, "string");
        assert.ok(labels.includes(x.label), `unknown label ${x.label}`);
        assert.ok(x.score >= 0 && x.score <= 1, `score ${x.score}`);
    }
    for (let i = 1; i < out.length; i++) assert.ok(out[i - 1].score >= out[i].score, "sorted by score");
    if (top) assert.equal(out[0].label, top);
}

// A token-classification answer: `word` is exactly the input's characters start..end. JS
// strings index UTF-16 units and the server counts code points (as Python does); the texts
// here stay in the BMP, where the two agree.
function assertTokens(out, text) {
    assert.ok(Array.isArray(out) && out.length > 0, "a non-empty flat array");
    for (const x of out) {
        assert.equal(typeof x.entity_group, "string");
        assert.ok(Number.isInteger(x.start) && Number.isInteger(x.end) && x.start < x.end);
        assert.equal(x.word, text.slice(x.start, x.end));
        assert.ok(x.score >= 0 && x.score <= 1);
    }
}

const client = new InferenceClient(); // no token: the server needs none
const spamLabels = await labelsOf("spam");

// ---- @huggingface/inference 4.x ---------------------------------------------------------------

await check("4.x textClassification: spam", async () => {
    const out = await client.textClassification({ endpointUrl: hf("spam"), inputs: SPAM });
    assertClassification(out, spamLabels, "spam");
    assert.equal(out.length, spamLabels.length, "all labels without top_k");
});

await check("4.x textClassification: ham, parameters top_k and function_to_apply", async () => {
    const out = await client.textClassification({
        endpointUrl: hf("spam"),
        inputs: HAM,
        parameters: { top_k: 1, function_to_apply: "softmax" },
    });
    assertClassification(out, spamLabels, "ham");
    assert.equal(out.length, 1);
});

await check("4.x textClassification: language id, top_k 3", async () => {
    const out = await client.textClassification({
        endpointUrl: hf("lang"),
        inputs: "Der schnelle braune Fuchs springt über den faulen Hund, und alle sehen zu.",
        parameters: { top_k: 3 },
    });
    assertClassification(out, await labelsOf("lang"), "deu");
    assert.equal(out.length, 3);
});

await check("4.x textClassification: sentiment", async () => {
    const labels = await labelsOf("sentiment");
    const pos = await client.textClassification({ endpointUrl: hf("sentiment"), inputs: "I loved this film, wonderful acting and a great story!" });
    const neg = await client.textClassification({ endpointUrl: hf("sentiment"), inputs: "Terrible, boring and far too long. A waste of money." });
    assertClassification(pos, labels, "positive");
    assertClassification(neg, labels, "negative");
});

await check("4.x tokenClassification: entities (ner)", async () => {
    const out = await client.tokenClassification({ endpointUrl: hf("ner"), inputs: NER });
    assertTokens(out, NER);
    const got = out.map((x) => `${x.entity_group}:${x.word}`);
    for (const want of ["PER:José Martínez", "LOC:Zürich", "LOC:São Paulo", "PER:Barack Obama"])
        assert.ok(got.includes(want), `${want} in ${JSON.stringify(got)}`);
});

await check("4.x tokenClassification: aggregation_strategy is accepted (ner)", async () => {
    const out = await client.tokenClassification({
        endpointUrl: hf("ner"),
        inputs: NER,
        parameters: { aggregation_strategy: "simple" },
    });
    assertTokens(out, NER);
});

await check("4.x tokenClassification: one group per token (pos)", async () => {
    const out = await client.tokenClassification({ endpointUrl: hf("pos"), inputs: POS });
    assertTokens(out, POS);
    assert.deepEqual(out.map((x) => x.word), ["The", "cat", "sat", "on", "the", "mat", "."]);
    assert.equal(out[1].entity_group, "nn");
});

await check("4.x InferenceClient({endpointUrl}) with a token and a model name", async () => {
    const c = new InferenceClient("hf_unused_token", { endpointUrl: hf("spam") });
    const out = await c.textClassification({ model: "spam", inputs: SPAM });
    assertClassification(out, spamLabels, "spam");
});

await check("4.x errors: unknown model -> the client's API error with our message", async () => {
    await assert.rejects(
        client.textClassification({ endpointUrl: hf("no-such-model"), inputs: "x" }),
        (e) => {
            assert.ok(e instanceof InferenceClientProviderApiError, e && e.constructor && e.constructor.name);
            assert.equal(e.httpResponse.status, 404);
            assert.match(e.message, /model 'no-such-model' not found/);
            return true;
        },
    );
});

await check("4.x errors: empty input -> 422 with our message", async () => {
    await assert.rejects(client.textClassification({ endpointUrl: hf("spam"), inputs: [] }), (e) => {
        assert.equal(e.httpResponse.status, 422);
        assert.match(e.message, /inputs: empty list/);
        return true;
    });
});

// ---- @huggingface/inference 2.8.1 (HfInferenceEndpoint) -----------------------------------------
// Without a model name, 2.x asks the Hugging Face Hub for a default model of the task before it
// calls the endpoint, so applications pass one; it is sent in the body and ignored here.

await check("2.x HfInferenceEndpoint textClassification", async () => {
    const ep = new HfInferenceEndpoint(hf("spam"));
    const out = await ep.textClassification({ model: "spam", inputs: SPAM });
    assertClassification(out, spamLabels, "spam");
});

await check("2.x textClassification with legacy options (X-Wait-For-Model, X-Use-Cache)", async () => {
    const ep = new HfInferenceEndpoint(hf("spam"), "hf_unused_token");
    const out = await ep.textClassification(
        { model: "spam", inputs: HAM },
        { wait_for_model: true, use_cache: false },
    );
    assertClassification(out, spamLabels, "ham");
});

await check("2.x HfInferenceEndpoint tokenClassification (ner)", async () => {
    const ep = new HfInferenceEndpoint(hf("ner"));
    const out = await ep.tokenClassification({ model: "ner", inputs: NER });
    assertTokens(out, NER);
    assert.ok(out.some((x) => x.entity_group === "LOC" && x.word === "Zürich"));
});

await check("2.x errors: unknown model -> Error with our message", async () => {
    const ep = new HfInferenceEndpoint(hf("no-such-model"));
    await assert.rejects(ep.textClassification({ model: "x", inputs: "x" }), /model 'no-such-model' not found/);
});

console.log(`hf interop: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
