import Testing
@testable import RepriseCore

@Suite struct CacheableGetPathsTests {
    @Test func theDefaultsMatchTheModelListAndOneModelInEitherPathForm() throws {
        let paths = try CacheableGetPaths()
        for target in ["/v1/models", "/models", "/v1/models/", "/v1/models/gpt-4o", "/models/deepseek-chat", "/v1/models/gpt-4o?x=1"] {
            #expect(paths.contains(normalizedPath: CachePath.normalize(target)), "\(target)")
        }
        for target in ["/v1/models/a/b", "/v1/model", "/v1/chat/completions", "/v1/modelsx", "/", "/v1/files/models"] {
            #expect(!paths.contains(normalizedPath: CachePath.normalize(target)), "\(target)")
        }
    }

    @Test func aPlaceholderMatchesExactlyOneSegmentAnywhere() throws {
        let paths = try CacheableGetPaths(["/v1/files/{id}/content"])
        #expect(paths.contains(normalizedPath: "/files/f1/content"))
        #expect(!paths.contains(normalizedPath: "/files/content"))
        #expect(!paths.contains(normalizedPath: "/files/f1/f2/content"))
    }

    @Test func refusedPatternsSayWhy() {
        for pattern in ["v1/models", "/v1/models/{id", "/v1/{a}{b}", "/v1/models?x=1", "/v1/mo{d}els"] {
            #expect(throws: CacheableGetPaths.PatternError.self, "\(pattern)") { try CacheableGetPaths([pattern]) }
        }
        #expect(CacheableGetPaths.none.isEmpty)
        #expect(!CacheableGetPaths.none.contains(normalizedPath: "/models"))
    }

    @Test func aBodilessKeyDependsOnTenantPathAndQueryAndNamesNoPost() throws {
        let builder = CacheKeyBuilder()
        func scope(_ namespace: String = "t1", method: String = "GET", path: String = "/models", query: Substring = "") -> CacheScope {
            CacheScope(namespace: namespace, route: "default", variant: "primary", method: method, normalizedPath: path, query: query)
        }
        let key = builder.key(bodilessScope: scope())
        #expect(builder.key(bodilessScope: scope()) == key)
        #expect(builder.key(bodilessScope: scope("t2")).digest != key.digest)
        #expect(builder.key(bodilessScope: scope(path: "/models/gpt-4o")) != key)
        #expect(builder.key(bodilessScope: scope(query: "limit=1")) != key)
        #expect(try builder.key(scope: scope(method: "POST"), body: Array("{}".utf8)).key != key)
    }
}
