// Drives `cellar serve` (stories260K) with the official openai Node.js client:
// models, chat and text completions, streamed and not, errors, API keys.
// Usage: node test.mjs <cellar binary> <model.gguf>
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import OpenAI from 'openai';

const [binary, model] = process.argv.slice(2);
if (!binary || !model) {
  console.error('usage: node test.mjs <cellar binary> <model.gguf>');
  process.exit(2);
}

// Starts `cellar serve --port 0 ...` and resolves with {proc, baseURL}.
function startServer(extraArgs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['serve', '-m', model, '--port', '0', '-t', '1', '--no-store', ...extraArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const m = out.match(/on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) resolve({ proc, baseURL: `${m[1]}/v1` });
    });
    proc.on('exit', (code) => reject(new Error(`cellar serve exited early (${code}): ${out}`)));
  });
}

function stopServer(proc) {
  return new Promise((resolve) => {
    proc.removeAllListeners('exit');
    proc.on('exit', (code, signal) => resolve({ code, signal }));
    proc.kill('SIGTERM');
  });
}

async function collectChat(stream) {
  let text = '';
  let finish = null;
  let usage = null;
  let role = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.role) role = choice.delta.role;
      if (choice.delta.content) text += choice.delta.content;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { text, finish, usage, role };
}

async function testOpenServer() {
  const { proc, baseURL } = await startServer([]);
  try {
    const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });

    const models = await client.models.list();
    assert.equal(models.data.length, 1);
    assert.equal(models.data[0].id, 'stories260K');

    const messages = [
      { role: 'system', content: 'You tell short stories.' },
      { role: 'user', content: 'Once upon a time' },
    ];
    const chat = await client.chat.completions.create({
      model: 'stories260K', messages, max_tokens: 24, temperature: 0,
    });
    assert.equal(chat.object, 'chat.completion');
    assert.equal(chat.choices.length, 1);
    assert.equal(chat.choices[0].message.role, 'assistant');
    assert.equal(chat.choices[0].finish_reason, 'length');
    assert.ok(chat.choices[0].message.content.length > 0);
    assert.equal(chat.usage.completion_tokens, 24);
    assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + 24);
    assert.equal(chat.usage.prompt_tokens_details.cached_tokens, 0);

    // The same request streamed: the same text (greedy), and a usage chunk.
    const streamed = await collectChat(await client.chat.completions.create({
      model: 'stories260K', messages, max_tokens: 24, temperature: 0, stream: true,
      stream_options: { include_usage: true },
    }));
    assert.equal(streamed.role, 'assistant');
    assert.equal(streamed.text, chat.choices[0].message.content);
    assert.equal(streamed.finish, 'length');
    assert.equal(streamed.usage.completion_tokens, 24);
    // The prompt was cached by the first request (whole 16-token blocks, not the last token).
    assert.equal(streamed.usage.prompt_tokens_details.cached_tokens,
                 Math.floor((chat.usage.prompt_tokens - 1) / 16) * 16);

    // Text completions, streamed and not.
    const completion = await client.completions.create({
      model: 'stories260K', prompt: 'Once upon a time', max_tokens: 16, temperature: 0,
    });
    assert.equal(completion.object, 'text_completion');
    assert.equal(completion.choices[0].finish_reason, 'length');
    assert.equal(completion.usage.completion_tokens, 16);
    const cstream = await client.completions.create({
      model: 'stories260K', prompt: 'Once upon a time', max_tokens: 16, temperature: 0, stream: true,
    });
    let ctext = '';
    for await (const chunk of cstream) ctext += chunk.choices[0]?.text ?? '';
    assert.equal(ctext, completion.choices[0].text);
    assert.match(ctext, /^, there was a little/);

    // Errors come back as the client's typed errors.
    await assert.rejects(
      client.chat.completions.create({ model: 'stories260K', messages, n: 2 }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.code === 'unsupported_value'
        && e.param === 'n');
    await assert.rejects(
      client.chat.completions.create({ model: 'stories260K', messages: [] }),
      (e) => e instanceof OpenAI.BadRequestError && e.code === 'invalid_value');
    await assert.rejects(
      client.completions.create({ model: 'stories260K', prompt: 'x'.repeat(10), max_tokens: 5000 }),
      (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded');
  } finally {
    const { code } = await stopServer(proc);
    assert.equal(code, 0, 'cellar serve exits 0 on SIGTERM');
  }
}

async function testApiKey() {
  const { proc, baseURL } = await startServer(['--api-key', 'sk-cellar-test']);
  try {
    const wrong = new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
    await assert.rejects(wrong.models.list(),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key');
    const right = new OpenAI({ baseURL, apiKey: 'sk-cellar-test', maxRetries: 0 });
    const chat = await right.chat.completions.create({
      model: 'stories260K', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4,
      temperature: 0,
    });
    assert.equal(chat.usage.completion_tokens <= 4, true);
  } finally {
    const { code } = await stopServer(proc);
    assert.equal(code, 0);
  }
}

try {
  await testOpenServer();
  await testApiKey();
  console.log('openai Node.js client: all checks passed');
} catch (e) {
  console.error(e);
  process.exit(1);
}
