// Real Tomcat (Debian's tomcat10 package) in a private CATALINA_BASE on a loopback port, serving one echo
// servlet at /* (test/fixtures/tomcat-echo): how a servlet container — bbb-web's, Jetty's kin — reads a
// request path. No root, no system config: everything lives in a temporary directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './gateway.js';

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
  const port = await freePort();
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
  writeFileSync(join(base, 'conf/logging.properties'), 'handlers = java.util.logging.ConsoleHandler\n.level = WARNING\n');
  const child: ChildProcess = spawn('java', [
    `-Djava.util.logging.config.file=${join(base, 'conf/logging.properties')}`, `-Dcatalina.home=${CATALINA_HOME}`, `-Dcatalina.base=${base}`,
    `-Djava.io.tmpdir=${join(base, 'temp')}`, '-Xmx256m', '-cp', `${CATALINA_HOME}/bin/bootstrap.jar:${CATALINA_HOME}/bin/tomcat-juli.jar`,
    'org.apache.catalina.startup.Bootstrap', 'start',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/probe`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`Tomcat did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

/** Parses the echo servlet's answer. */
export function tomcatReading(body: string): TomcatReading {
  return JSON.parse(body) as TomcatReading;
}

