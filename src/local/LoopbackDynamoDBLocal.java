// DynamoDB Local bound to 127.0.0.1 only.
//
// DynamoDB Local's own entry point (ServerRunner.main, what `java -jar DynamoDBLocal.jar` runs)
// has no host option: its Jetty server listens on every interface. This launcher builds the same
// server from the same command-line arguments (-inMemory -port N ...), with the public
// ServerRunner.createServerFromCommandLineArgs, and binds its connector to the loopback
// interface before starting it. It is run in Java's single-file source mode by
// tests/repository/dynamodb_local.py:
//
//   java -Djava.library.path=<lib>/DynamoDBLocal_lib -cp <lib>/DynamoDBLocal.jar \
//        LoopbackDynamoDBLocal.java -inMemory -port N
//
// Telemetry is never configured here (ServerRunner.main does that), so nothing is sent.

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        // The Jetty server is a private field of DynamoDBProxyServer (DynamoDB Local 3.3.0).
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local has no connector to bind to " + HOST);
        }
        for (Connector connector : connectors) {
            ((ServerConnector) connector).setHost(HOST);
        }
        proxy.start();
        System.out.println("LoopbackDynamoDBLocal: listening on " + HOST);
        proxy.join();
    }
}
