// Smoke test of extension.js without VS Code: `vscode` and
// `vscode-languageclient/node` are replaced by recording stubs, so this checks
// what the extension asks for (which command, which arguments, restarts),
// not the protocol itself.
'use strict';

const assert = require('assert');
const Module = require('module');
const path = require('path');

const state = { settings: {}, clients: [], errors: [], listeners: [], failStart: false };

const vscodeStub = {
  workspace: {
    getConfiguration(section) {
      assert.strictEqual(section, 'mlp');
      return { get: (key) => state.settings[key] };
    },
    createFileSystemWatcher: (glob) => ({ glob }),
    onDidChangeConfiguration(fn) {
      state.listeners.push(fn);
      return { dispose() {} };
    },
  },
  window: { showErrorMessage: (msg) => state.errors.push(msg) },
};

class LanguageClientStub {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, started: false, stopped: false });
    state.clients.push(this);
  }
  async start() {
    if (state.failStart) throw new Error('spawn mlc ENOENT');
    this.started = true;
  }
  async stop() {
    this.stopped = true;
  }
}

const realLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'vscode') return vscodeStub;
  if (request === 'vscode-languageclient/node') return { LanguageClient: LanguageClientStub };
  return realLoad.call(this, request, parent, isMain);
};

const extension = require(path.join(__dirname, '..', 'extension.js'));

function changeSetting(key, value) {
  state.settings[key] = value;
  const event = { affectsConfiguration: (name) => name === `mlp.${key}` };
  return Promise.all(state.listeners.map((fn) => fn(event)));
}

let checks = 0;
function check(what, fn) {
  fn();
  checks++;
  console.log(`ok ${checks} - ${what}`);
}

(async () => {
  const context = { subscriptions: [] };
  await extension.activate(context);

  check('starts `mlc lsp` by default, over stdio without extra arguments', () => {
    assert.strictEqual(state.clients.length, 1);
    const c = state.clients[0];
    assert.deepStrictEqual(c.serverOptions, { command: 'mlc', args: ['lsp'] });
    assert.strictEqual(c.started, true);
  });
  check('serves the mlp language and the `mlp.trace.server` setting', () => {
    const c = state.clients[0];
    assert.strictEqual(c.id, 'mlp');
    assert.ok(c.clientOptions.documentSelector.every((s) => s.language === 'mlp'));
    assert.strictEqual(c.clientOptions.synchronize.fileEvents.glob, '**/*.mlp');
  });

  await changeSetting('server.path', '/opt/mlc/bin/mlc');
  check('restarts with the new `mlp.server.path`', () => {
    assert.strictEqual(state.clients.length, 2);
    assert.strictEqual(state.clients[0].stopped, true);
    assert.deepStrictEqual(state.clients[1].serverOptions, { command: '/opt/mlc/bin/mlc', args: ['lsp'] });
    assert.strictEqual(state.clients[1].started, true);
  });

  await changeSetting('unrelated', 1);
  check('ignores other settings', () => assert.strictEqual(state.clients.length, 2));

  state.failStart = true;
  await changeSetting('server.path', 'no-such-mlc');
  check('reports a server that cannot start instead of throwing', () => {
    assert.strictEqual(state.errors.length, 1);
    assert.match(state.errors[0], /no-such-mlc lsp/);
    assert.match(state.errors[0], /mlp\.server\.path/);
  });

  await extension.deactivate();
  check('deactivate stops the client', () => assert.strictEqual(state.clients[2].stopped, true));

  console.log(`extension.js: ${checks} passed, 0 failed`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
