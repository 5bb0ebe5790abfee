// Real Tomcat (Debian's tomcat10 package) in a private CATALINA_BASE on a loopback port, serving one echo
// servlet at /* (test/fixtures/tomcat-echo): how a servlet container — bbb-web's, Jetty's kin — reads a
// request path. No root, no system config: everything lives in a temporary directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddressInUse, onFreePort } from './ports.js';
import { atMost, until } from './until.js';

const CATALINA_HOME = '/usr/share/tomcat10';
const SERVLET_API = '/usr/share/java/tomcat10-servlet-api.jar';
const ECHO_SOURCE = fileURLToPath(new URL('../fixtures/tomcat-echo/Echo.java', import.meta.url));

/** How Tomcat read one request path (null where the servlet API has none). */
export interface TomcatReading {
  servletPath: string;
  pathInfo: string | null;
  requestURI: string;
  /** The X-Roomguard-Room header that arrived with it. */
  room: string | null;
  /** nginx's $uri and matched location, where nginx stood in front and said so. */
  nginxUri: string | null;
  nginxLocation: string | null;
}

export interface Tomcat {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Why Tomcat cannot run here, naming the Debian package, or undefined. */
export function tomcatMissing(): string | undefined {
  if (!existsSync(join(CATALINA_HOME, 'bin/bootstrap.jar')) || !existsSync(SERVLET_API)) {
    return 'Tomcat is not installed: the differential path tests need Debian\'s package `tomcat10` (apt-get install tomcat10); .ci/run installs it';
  }
  if (spawnSync('javac', ['-version']).error) return 'javac is not installed: the Tomcat echo servlet is compiled at test time (Debian package `default-jdk-headless`); .ci/run installs it';
  return undefined;
}

export async function startTomcat(): Promise<Tomcat> {
  const missing = tomcatMissing();
  if (missing) throw new Error(missing);
  const base = mkdtempSync(join(tmpdir(), 'rg-tomcat-'));
  for (const dir of ['conf', 'logs', 'temp', 'work', 'webapps/ROOT/WEB-INF/classes']) mkdirSync(join(base, dir), { recursive: true });
  const javac = spawnSync('javac', ['-cp', SERVLET_API, '-d', join(base, 'webapps/ROOT/WEB-INF/classes'), ECHO_SOURCE], { encoding: 'utf8' });
  if (javac.status !== 0) throw new Error(`javac could not compile the echo servlet:\n${javac.stderr}`);
  writeFileSync(join(base, 'webapps/ROOT/WEB-INF/web.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <servlet><servlet-name>echo</servlet-name><servlet-class>Echo</servlet-class></servlet>
  <servlet-mapping><servlet-name>echo</servlet-name><url-pattern>/*</url-pattern></servlet-mapping>
</web-app>
`);
  // Its port is in server.xml: on a port free now, again on another if some other process took it first.
  return onFreePort((port) => launchTomcat(base, port));
}

async function launchTomcat(base: string, port: number): Promise<Tomcat> {
  // Tomcat's stock connector settings: the reading under test is the one every default install has.
  writeFileSync(join(base, 'conf/server.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="${port}" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="5000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
`);
  copyFileSync(join(CATALINA_HOME, 'etc/web.xml'), join(base, 'conf/web.xml'));
  // Catalina's INFO line "Server startup in" says this Tomcat has bound its connector and deployed the servlet.
  writeFileSync(join(base, 'conf/logging.properties'), 'handlers = java.util.logging.ConsoleHandler\n.level = WARNING\norg.apache.catalina.startup.Catalina.level = INFO\njava.util.logging.ConsoleHandler.level = INFO\n');
  const child: ChildProcess = spawn('java', [
    `-Djava.util.logging.config.file=${join(base, 'conf/logging.properties')}`, `-Dcatalina.home=${CATALINA_HOME}`, `-Dcatalina.base=${base}`,
    `-Djava.io.tmpdir=${join(base, 'temp')}`, '-Xmx256m', '-cp', `${CATALINA_HOME}/bin/bootstrap.jar:${CATALINA_HOME}/bin/tomcat-juli.jar`,
    // A connector that cannot bind ends the process instead of leaving a Tomcat without it.
    '-Dorg.apache.catalina.startup.EXIT_ON_INIT_FAILURE=true',
    'org.apache.catalina.startup.Bootstrap', 'start',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(`Tomcat on port ${port}`, () => {
    if (child.exitCode !== null) throw /address already in use/i.test(stderr) ? new AddressInUse(`Tomcat on port ${port}`, stderr) : new Error(`Tomcat did not start: ${stderr}`);
    return stderr.includes('Server startup in');
  }, { timeout: 30_000, interval: 100 }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await atMost(exited, 5000);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

/** Parses the echo servlet's answer. */
export function tomcatReading(body: string): TomcatReading {
  return JSON.parse(body) as TomcatReading;
}

