import Foundation

/// The established TCP connections on this machine whose remote end is `127.0.0.1:port`, read
/// from `/proc/net/tcp` (and `tcp6`): the local port of each. For a TLS front only the upstream
/// client (the Reprise under test) connects, so the same single local port across several
/// requests means one kept-alive connection served them all.
enum UpstreamTCPConnections {
    static func localPorts(connectedTo port: Int) throws -> [Int] {
        var ports: [Int] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // procfs hands out these tables a page per read(): read to the end, never by size.
            guard let handle = FileHandle(forReadingAtPath: table), let data = try handle.readToEnd() else { continue }
            try handle.close()
            let text = String(decoding: data, as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // sl, local_address, rem_address, st, ...; addresses are HEXADDR:HEXPORT.
                guard fields.count > 3, fields[3] == "01",  // ESTABLISHED
                      let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }), remotePort == port,
                      let localPort = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
                else { continue }
                ports.append(localPort)
            }
        }
        return ports.sorted()
    }
}
