// VS Code client for the mlp language: highlighting comes from the TextMate
// grammar in package.json; everything else (diagnostics, hover, ...) from the
// language server that `mlc lsp` runs over stdin/stdout.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

// The executable to run, from the `mlp.server.path` setting.
function serverPath() {
  const configured = vscode.workspace.getConfiguration('mlp').get('server.path');
  return typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : 'mlc';
}

function createClient() {
  // No `transport` on purpose: vscode-languageclient would append `--stdio`
  // to the arguments for TransportKind.stdio, while leaving it out still
  // talks over the child's stdin/stdout with exactly `mlc lsp`.
  const serverOptions = { command: serverPath(), args: ['lsp'] };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'mlp' },
      { scheme: 'untitled', language: 'mlp' },
    ],
    // Imports read other .mlp files, so the server hears when they change.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.mlp') },
  };
  // The id `mlp` makes the client read the `mlp.trace.server` setting.
  return new LanguageClient('mlp', 'mlp language server', serverOptions, clientOptions);
}

async function startClient() {
  client = createClient();
  try {
    await client.start();
  } catch (err) {
    // A missing `mlc` must not break highlighting; say how to fix it.
    vscode.window.showErrorMessage(
      `mlp: could not start the language server \`${serverPath()} lsp\` (${err && err.message ? err.message : err}). ` +
        'Set `mlp.server.path` to the mlc executable.'
    );
  }
}

async function stopClient() {
  if (!client) return;
  const old = client;
  client = undefined;
  try {
    await old.stop();
  } catch (_) {
    // It may never have started; there is nothing left to stop then.
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      // A new executable only takes effect in a new server process.
      if (event.affectsConfiguration('mlp.server.path')) {
        await stopClient();
        await startClient();
      }
    })
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
