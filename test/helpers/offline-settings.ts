/**
 * The settings of every Node-RED this project starts itself (tests, demo): loopback only, no
 * telemetry, tours, palette catalogues or installs, since the machine has no internet.
 */
export function offlineSettings(
  uiPort: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    uiHost: '127.0.0.1',
    uiPort,
    flowFile: 'flows.json',
    credentialSecret: false,
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false },
    externalModules: { palette: { allowInstall: false } },
    editorTheme: { tours: false, palette: { catalogues: [] }, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    ...extra,
  };
}

/** A settings.js holding `settings`. */
export function settingsModule(settings: Record<string, unknown>): string {
  return `module.exports = ${JSON.stringify(settings, null, 2)};\n`;
}
