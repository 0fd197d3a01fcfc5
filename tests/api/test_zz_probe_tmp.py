from tests.api.calls import bearer

def test_probe(client, world):
    r = client.post("/api/v1/auth/token", data='{"email": "a\\ud800@a.cn", "password": "xxxxxxxxxxxx"}', content_type="application/json")
    print("TOKEN", r.status_code, r.get_data(as_text=True)[:200])
    h = bearer(world.alice)
    r = client.patch(f"/api/v1/sites/{world.site_a.id}", data='{"name": "x\\ud800"}', content_type="application/json", headers=h)
    print("SITE", r.status_code, r.get_data(as_text=True)[:200])
    r = client.get("/api/v1/enterprises?q=%ED%A0%80", headers=h)
    print("Q", r.status_code, r.get_data(as_text=True)[:200])
    r = client.get("/api/v1/enterprises?q=a%00b", headers=h)
    print("NUL", r.status_code, r.get_data(as_text=True)[:200])
    r = client.patch(f"/api/v1/sites/{world.site_a.id}", data='{"name": "x\\u0000y"}', content_type="application/json", headers=h)
    print("SITE NUL", r.status_code, r.get_data(as_text=True)[:200])
    r = client.post("/account/login", data={"email": "a\x00@a.cn", "password": "xxxxxxxxxxxxx"})
    print("LOGIN NUL", r.status_code)
    r = client.get("/enterprises/?q=a%00b")
    print("WEB NUL", r.status_code)
