// Samples a running broker once a second through JMX (attached by pid, no port opened):
// requests by API (kafka.network RequestMetrics RequestsPerSec counts, summed over versions)
// and CPU seconds per thread (ThreadMXBean, full thread names, digits folded to N).
// One JSON line per sample to OUT until the broker exits.
// usage: javac BrokerMeter.java && java BrokerMeter PID OUT.jsonl
import com.sun.tools.attach.VirtualMachine;
import java.io.FileWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerMeter {
    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        String url = vm.startLocalManagementAgent();
        MBeanServerConnection mbs = JMXConnectorFactory.connect(new JMXServiceURL(url)).getMBeanServerConnection();
        ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.THREAD_MXBEAN_NAME, ThreadMXBean.class);
        ObjectName requests = new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*");
        try (FileWriter out = new FileWriter(args[1], true)) {
            while (true) {
                Map<String, Long> byApi = new TreeMap<>();
                for (ObjectName name : mbs.queryNames(requests, null)) {
                    long count = ((Number) mbs.getAttribute(name, "Count")).longValue();
                    byApi.merge(name.getKeyProperty("request"), count, Long::sum);
                }
                Map<String, Double> cpu = new TreeMap<>();
                long[] ids = threads.getAllThreadIds();
                var infos = threads.getThreadInfo(ids);
                for (int i = 0; i < ids.length; i++) {
                    if (infos[i] == null) continue;
                    long ns = threads.getThreadCpuTime(ids[i]);
                    if (ns < 0) continue;
                    cpu.merge(infos[i].getThreadName().replaceAll("\\d+", "N"), ns / 1e9, Double::sum);
                }
                StringBuilder line = new StringBuilder("{\"t\": " + System.currentTimeMillis() / 1000.0 + ", \"requests\": {");
                String sep = "";
                for (var e : byApi.entrySet()) { line.append(sep).append('"').append(e.getKey()).append("\": ").append(e.getValue()); sep = ", "; }
                line.append("}, \"threads\": {");
                sep = "";
                for (var e : cpu.entrySet()) { line.append(sep).append('"').append(e.getKey().replace("\"", "'")).append("\": ").append(String.format("%.3f", e.getValue())); sep = ", "; }
                line.append("}}\n");
                out.write(line.toString());
                out.flush();
                Thread.sleep(args.length > 2 ? Long.parseLong(args[2]) : 1000);
            }
        }
    }
}
