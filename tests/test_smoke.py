def test_register_and_me(api):
    tokens = api.register()
    me = api.get("/me", token=tokens["access_token"])
    assert me.status_code == 200, me.json
    assert me.json["phone"] == "+79161234567"
